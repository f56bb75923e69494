import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { logsKey } from './keys';
import { acknowledgeFinding } from './nag';

export interface NetworkProps {
  readonly logRetention: logs.RetentionDays;
}

/**
 * Isolated subnets only: nothing in the VPC can reach the internet, so the path for health
 * data leaving is closed by construction. AWS APIs are reached through endpoints instead.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  /** Worn by every function that talks to PostgreSQL or Redis; stores admit this group only. */
  readonly functionSecurityGroup: ec2.SecurityGroup;
  readonly isolatedSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      // Nothing here uses the default group; without rules it cannot become an accidental way in.
      restrictDefaultSecurityGroup: true,
    });
    // Who talked to the database and cache, and what was refused: the network's audit trail.
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', {
          retention: props.logRetention,
          encryptionKey: logsKey(this),
          removalPolicy: RemovalPolicy.RETAIN,
        }),
      ),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    acknowledgeFinding(
      this.vpc.node.findChild('FlowLog').node.findChild('IAMRole'),
      'HIPAA.Security-IAMNoInlinePolicy',
      "CDK's grant policy for the flow log's delivery role, attached to that role only: writes to the flow log group and PassRole of itself.",
    );

    // Gateway endpoints are free and keep S3/DynamoDB traffic off interface-endpoint hours.
    this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [this.isolatedSubnets] });
    this.vpc.addGatewayEndpoint('DynamoDb', {
      service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [this.isolatedSubnets],
    });

    const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Interface endpoints: HTTPS from functions in this VPC only',
      allowAllOutbound: false,
    });
    this.functionSecurityGroup = new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      description: 'Lambdas that reach the database and cache',
      allowAllOutbound: false,
    });
    endpointSecurityGroup.addIngressRule(this.functionSecurityGroup, ec2.Port.tcp(443), 'functions to AWS APIs');
    // HTTPS to any address: the S3/DynamoDB gateway endpoints are routes to public ranges, not
    // ENIs, and with no NAT or internet gateway nothing else is reachable on 443 anyway.
    this.functionSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs via endpoints');

    const interfaces: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
      Kinesis: ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS,
      SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      Sns: ec2.InterfaceVpcEndpointAwsService.SNS,
      // Alert e-mail (the SES API) and the ingest metrics the monitor reads (GetMetricData).
      Email: ec2.InterfaceVpcEndpointAwsService.EMAIL,
      CloudWatchMonitoring: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
      Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
      // Active tracing sends segments from inside the function's network.
      XRay: ec2.InterfaceVpcEndpointAwsService.XRAY,
    };
    for (const [name, service] of Object.entries(interfaces)) {
      this.vpc.addInterfaceEndpoint(name, {
        service,
        subnets: this.isolatedSubnets,
        securityGroups: [endpointSecurityGroup],
        privateDnsEnabled: true,
        open: false,
      });
    }
  }
}
