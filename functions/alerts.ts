/** Fanout member, consumer group "alerts": every record, checked per batch for client and server errors. */
import { kafkaBatchHandler } from '../shared/consumer/batch-handler';
import { summarizeErrors } from '../shared/consumer/error-summary';

export const handler = kafkaBatchHandler('alerts', summarizeErrors);
