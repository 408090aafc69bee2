/**
 * Waiting on conditions with deadlines: the only synchronization tests use. The application's tests share the
 * package's helper (the package's tests stand alone and cannot import the application's).
 */
export { waitFor } from '../../packages/serverless-offline-kafka/test/helpers/wait';
