import { isConnectionError } from '../../../functions/adapters/pg/database';
import { StoreUnavailableError, isUnavailable } from '../../../functions/ports/unavailable';

const pgError = (code: string, message = 'error') => Object.assign(new Error(message), { code });

describe('isConnectionError', () => {
  it.each([
    ['a backend terminated by pg_terminate_backend', pgError('57P01', 'terminating connection due to administrator command')],
    ['a server shutting down', pgError('57P02')],
    ['a server starting up', pgError('57P03')],
    ['no connection slots left', pgError('53300')],
    ['a connection exception', pgError('08006')],
    ['a refused socket', pgError('ECONNREFUSED')],
    ['a reset socket', pgError('ECONNRESET')],
    ['a socket closed under the client', new Error('Connection terminated unexpectedly')],
    ['a connect timeout', new Error('timeout exceeded when trying to connect')],
  ])('holds for %s: the work may succeed on a new connection', (_, error) => {
    expect(isConnectionError(error)).toBe(true);
  });

  it.each([
    ['a unique violation', pgError('23505')],
    ['a syntax error', pgError('42601')],
    ['a serialization failure', pgError('40001')],
    ['a plain error', new Error('boom')],
    ['no error at all', undefined],
  ])('does not hold for %s: the statement is at fault', (_, error) => {
    expect(isConnectionError(error)).toBe(false);
  });
});

describe('StoreUnavailableError', () => {
  it('names the store and the cause, and is told apart by its transient flag', () => {
    const error = new StoreUnavailableError('PostgreSQL', new Error('Connection terminated unexpectedly'));

    expect(error.message).toBe('PostgreSQL is unavailable: Connection terminated unexpectedly');
    expect(isUnavailable(error)).toBe(true);
    expect(isUnavailable({ message: 'PostgreSQL is unavailable', transient: true })).toBe(true);
    expect(isUnavailable(new Error('PostgreSQL is unavailable'))).toBe(false);
  });
});
