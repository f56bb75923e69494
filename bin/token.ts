// `npm run token -- --role analyst [--subject NAME] [--hours 12] [--secret S]`: a bearer token for
// the local runtime, or with --secret for the LocalStack variant's function URLs.
import { parseEnv } from '../functions/config/env';
import { localEnv } from '../functions/config/local';
import { ROLES, type Role } from '../functions/handlers/http/roles';
import { localTokenAuthority } from '../functions/local/tokens';
import { signHs256 } from '../functions/handlers/http/bearer';
import { cliOptions } from './cli-options';

const USAGE = `Usage: npm run token -- [--role ROLE] [--subject NAME] [--hours N] [--secret S]
Prints a bearer token for the local runtime (signed with the key in \${DATA_DIR:-./.data}), or,
with --secret, for the LocalStack variant's function URLs.
  --role ROLE      one of ${ROLES.join(', ')} (default analyst)
  --subject NAME   the token's subject, e.g. a clinician id (default local-user)
  --hours N        how long it is valid (default 12)
  --secret S       sign with this secret instead of the local runtime's`;

const values = cliOptions(USAGE, {
  role: { type: 'string', default: 'analyst' },
  subject: { type: 'string', default: 'local-user' },
  hours: { type: 'string', default: '12' },
  secret: { type: 'string' },
});
const role = values.role as Role;
if (!ROLES.includes(role)) {
  process.stderr.write(`--role must be one of ${ROLES.join(', ')}\n\n${USAGE}\n`);
  process.exit(2);
}
const hours = Number(values.hours);
if (!Number.isFinite(hours) || hours <= 0) {
  process.stderr.write(`--hours must be a positive number\n\n${USAGE}\n`);
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
