export { freePort } from '../../local-kafka/ports';
