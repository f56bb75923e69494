import type { CloudFormationCustomResourceEvent, ScheduledEvent } from 'aws-lambda';
import { jsonLogger } from '../../../functions/adapters/log';
import { makeJwksHandler } from '../../../functions/handlers/jwks';
import { makeMirrorJwks } from '../../../functions/use-cases/mirror-jwks';
import { tokenIssuer } from '../../support/lambda-streaming';

const ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Live12345';
const keys = tokenIssuer(ISSUER);
const logger = jsonLogger('test', 'silent');

/** An issuer on the web: its discovery document and key set, by URL. */
function issuerOnTheWeb(documents: Record<string, unknown>) {
  return async (url: string) => {
    if (!(url in documents)) throw new Error(`${url} answered 404`);
    return documents[url];
  };
}

const published = {
  [`${ISSUER}/.well-known/openid-configuration`]: { issuer: ISSUER, jwks_uri: `${ISSUER}/.well-known/jwks.json` },
  [`${ISSUER}/.well-known/jwks.json`]: JSON.parse(keys.jwks) as unknown,
};

function mirrorWith(documents: Record<string, unknown>) {
  const kept: string[] = [];
  const answers: { url: string; body: Record<string, string> }[] = [];
  const handler = makeJwksHandler({
    mirror: makeMirrorJwks({ issuer: ISSUER, audience: ['apiclient', 'webclient'], fetchJson: issuerOnTheWeb(documents), keep: async (jwks) => void kept.push(jwks) }),
    answer: async (url, body) => void answers.push({ url, body: JSON.parse(body) as Record<string, string> }),
    logger,
  });
  return { handler, kept, answers };
}

const deploy = (RequestType: 'Create' | 'Update' | 'Delete') =>
  ({ RequestType, ResponseURL: 'https://cloudformation-responses.example/signed', StackId: 'stack', RequestId: 'r1', LogicalResourceId: 'Jwks', ResourceType: 'Custom::Jwks', ServiceToken: 'arn', ResourceProperties: { ServiceToken: 'arn' } }) as unknown as CloudFormationCustomResourceEvent;

describe('the key mirror of the live function', () => {
  it('keeps the key set the discovery document names, with the audience, on its hourly run', async () => {
    const { handler, kept } = mirrorWith(published);
    await handler({ source: 'aws.events' } as ScheduledEvent);
    expect(kept.map((trust) => JSON.parse(trust) as unknown)).toEqual([JSON.parse(keys.trust(['apiclient', 'webclient']))]);
  });

  it('answers CloudFormation at a deploy, with success once the keys are kept', async () => {
    const { handler, kept, answers } = mirrorWith(published);
    await handler(deploy('Create'));
    expect(kept).toHaveLength(1);
    expect(answers).toEqual([{ url: 'https://cloudformation-responses.example/signed', body: expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: 'jwks-mirror', RequestId: 'r1', LogicalResourceId: 'Jwks' }) }]);
  });

  it('fails the deploy, and still answers, when the issuer names another issuer or its keys are no key set', async () => {
    for (const documents of [
      { ...published, [`${ISSUER}/.well-known/openid-configuration`]: { issuer: 'https://elsewhere.example', jwks_uri: `${ISSUER}/.well-known/jwks.json` } },
      { ...published, [`${ISSUER}/.well-known/jwks.json`]: { keys: 'none' } },
      {},
    ]) {
      const { handler, kept, answers } = mirrorWith(documents);
      await handler(deploy('Update'));
      expect(kept).toEqual([]);
      expect(answers[0]?.body).toMatchObject({ Status: 'FAILED' });
    }
  });

  it('lets the stack delete it without reading anything', async () => {
    const { handler, kept, answers } = mirrorWith({});
    await handler(deploy('Delete'));
    expect(kept).toEqual([]);
    expect(answers[0]?.body).toMatchObject({ Status: 'SUCCESS' });
  });
});
