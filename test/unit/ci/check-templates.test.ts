import { judgeFindings, type Acknowledgement, type Finding } from '../../../bin/check-templates';

const finding = (rule: string, resource: string, template = 'aws'): Finding => ({ tool: 'checkov', template, rule, resource, message: rule });
const ack = (rule: string, resources: string[], templates?: string[]): Acknowledgement => ({ tool: 'checkov', rule, resources, reason: 'a reason a reviewer can check', ...(templates && { templates }) });

describe('judging template findings against the acknowledged ones', () => {
  it('passes findings an acknowledgement covers, by exact id or a prefix before a trailing *', () => {
    const findings = [finding('CKV_AWS_116', 'IngestionIngestFunction1E542161'), finding('CKV_AWS_18', 'StorageAccessLogBucket76E80A12')];
    expect(judgeFindings(findings, [ack('CKV_AWS_116', ['IngestionIngestFunction*']), ack('CKV_AWS_18', ['StorageAccessLogBucket76E80A12'])])).toEqual({ unlisted: [], stale: [] });
  });

  it('fails a finding of another rule, resource, tool or template than acknowledged', () => {
    const acknowledged = [ack('CKV_AWS_116', ['IngestionIngestFunction*'], ['aws'])];
    for (const unlisted of [
      finding('CKV_AWS_115', 'IngestionIngestFunction1E542161'),
      finding('CKV_AWS_116', 'QueryServiceQueryFunctionB0761D62'),
      { ...finding('CKV_AWS_116', 'IngestionIngestFunction1E542161'), tool: 'cfn-lint' as const },
      finding('CKV_AWS_116', 'IngestionIngestFunction1E542161', 'localstack'),
    ]) {
      expect(judgeFindings([unlisted], acknowledged).unlisted).toEqual([unlisted]);
    }
  });

  it('reports an acknowledged pattern that matches no finding any more, so reasons do not outlive what they excuse', () => {
    const { stale } = judgeFindings([finding('CKV_AWS_116', 'IngestionIngestFunction1E542161')], [ack('CKV_AWS_116', ['IngestionIngestFunction*', 'LegacyFunction*'], ['aws'])]);
    expect(stale).toEqual(['checkov CKV_AWS_116 LegacyFunction* (aws)']);
  });
});
