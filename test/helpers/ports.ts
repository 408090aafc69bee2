export { freePort } from '../../local/common/ports';
