import { RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { FunctionBinding, HouseFunction } from './house-function';
import { acknowledgeFinding } from './nag';

export interface ExternalDatabaseProps {
  /** The connection URL, with its password: the compose file's development one by default. */
  readonly url: string;
  readonly encryptionKey: kms.IKey;
}

/**
 * The LocalStack variant's secrets: values given to the stack (the external database's URL, the
 * function URLs' token key), kept in Secrets Manager rather than in the functions' environments,
 * where anyone allowed to read a function's configuration reads them. A value passed in this way
 * is in the synthesised template: development values only, never deployed to AWS.
 */
export function givenSecret(scope: Construct, id: string, props: { readonly description: string; readonly value: string; readonly encryptionKey: kms.IKey }): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, id, {
    description: props.description,
    encryptionKey: props.encryptionKey,
    secretStringValue: SecretValue.unsafePlainText(props.value),
    removalPolicy: RemovalPolicy.DESTROY,
  });
  for (const rule of ['AwsSolutions-SMG4', 'HIPAA.Security-SecretsManagerRotationEnabled']) {
    acknowledgeFinding(
      secret.node.defaultChild!,
      rule,
      'LocalStack target only (never deployed to AWS): the value belongs to something outside the stack (the compose file, the token command), so a rotation Lambda could not change it there; the functions read it through the secrets cache, so a value changed by hand reaches them within its max age.',
    );
  }
  return secret;
}

/**
 * PostgreSQL reached by URL, for targets without RDS (LocalStack community): the functions get the
 * ARN of a secret holding DATABASE_URL instead of the cluster secret and proxy host they get in AWS.
 */
export class ExternalDatabase extends Construct implements FunctionBinding {
  readonly urlSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: ExternalDatabaseProps) {
    super(scope, id);
    this.urlSecret = givenSecret(this, 'UrlSecret', { description: 'PostgreSQL connection URL of the LocalStack variant', value: props.url, encryptionKey: props.encryptionKey });
  }

  bindTo(fn: HouseFunction): void {
    fn.bindSecret(this.urlSecret, 'DATABASE_URL_SECRET_ARN');
  }
}

/** Redis reached by URL, for targets without ElastiCache. */
export class ExternalCache implements FunctionBinding {
  constructor(readonly url: string) {}

  bindTo(fn: HouseFunction): void {
    fn.addEnvironment('REDIS_URL', this.url);
  }
}
