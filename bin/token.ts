// `npm run token -- --role analyst [--subject NAME] [--hours 12] [--secret S]`: a bearer token for
// the local runtime, or with --secret for the LocalStack variant's function URLs.
import { parseArgs } from 'node:util';
import { parseEnv } from '../functions/config/env';
import { localEnv } from '../functions/config/local';
import { ROLES, type Role } from '../functions/handlers/http/roles';
import { localTokenAuthority } from '../functions/local/tokens';
import { signHs256 } from '../functions/handlers/http/bearer';

const { values } = parseArgs({ options: { role: { type: 'string', default: 'analyst' }, subject: { type: 'string', default: 'local-user' }, hours: { type: 'string', default: '12' }, secret: { type: 'string' } } });
const role = values.role as Role;
if (!ROLES.includes(role)) {
  process.stderr.write(`--role must be one of ${ROLES.join(', ')}\n`);
  process.exit(2);
}
const hours = Number(values.hours);
if (!Number.isFinite(hours) || hours <= 0) {
  process.stderr.write('--hours must be a positive number\n');
  process.exit(2);
}
const ttlSeconds = Math.round(hours * 3600);
const issue = () => {
  if (values.secret !== undefined) return signHs256(values.secret, role, values.subject, ttlSeconds);
  const config = parseEnv(localEnv);
  return localTokenAuthority(config.DATA_DIR, config.DEV_TOKEN).issue(role, values.subject, ttlSeconds);
};
const token = issue();
process.stdout.write(`${token}\n`);
