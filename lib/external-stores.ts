import type { FunctionBinding, HouseFunction } from './house-function';

/**
 * PostgreSQL reached by URL, for targets without RDS (LocalStack community): the functions get
 * DATABASE_URL instead of the secret ARN and proxy host they get in AWS.
 */
export class ExternalDatabase implements FunctionBinding {
  constructor(readonly url: string) {}

  bindTo(fn: HouseFunction): void {
    fn.addEnvironment('DATABASE_URL', this.url);
  }
}

/** Redis reached by URL, for targets without ElastiCache. */
export class ExternalCache implements FunctionBinding {
  constructor(readonly url: string) {}

  bindTo(fn: HouseFunction): void {
    fn.addEnvironment('REDIS_URL', this.url);
  }
}
