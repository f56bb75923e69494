const { join } = require('node:path');

const SERVICES_FILE = join(__dirname, '..', '..', '.jest-cache', 'services.json');

/** Where the tests look for real services; each can be pointed elsewhere by its variable. */
function serviceUrls() {
  return {
    postgres: process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
    redis: process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379',
    moto: process.env.TEST_AWS_ENDPOINT_URL || 'http://127.0.0.1:5000',
  };
}

module.exports = { serviceUrls, SERVICES_FILE };
