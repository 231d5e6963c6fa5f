import { createLogger } from '../shared/powertools';

/** The orchestrator's logger: the handler adds the Lambda context to it, so every step's lines carry the request id. */
export const logger = createLogger('orchestrator');
