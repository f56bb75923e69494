// `npm run token -- --role analyst [--subject NAME] [--hours 12]`: a bearer token for the local runtime.
import { parseArgs } from 'node:util';
import { parseEnv } from '../functions/config/env';
import { localEnv } from '../functions/config/local';
import { ROLES, type Role } from '../functions/handlers/http/roles';
import { localTokenAuthority } from '../functions/local/tokens';

const { values } = parseArgs({ options: { role: { type: 'string', default: 'analyst' }, subject: { type: 'string', default: 'local-user' }, hours: { type: 'string', default: '12' } } });
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
const config = parseEnv(localEnv);
process.stdout.write(`${localTokenAuthority(config.DATA_DIR, config.DEV_TOKEN).issue(role, values.subject, Math.round(hours * 3600))}\n`);
