/** The part of serverless-offline's plugin-facing Lambda API (`serverless-offline/lambda`) used here. */
declare module 'serverless-offline/lambda' {
  export interface LambdaFunction {
    setEvent(event: unknown): void;
    runHandler(): Promise<unknown>;
  }
  export default class Lambda {
    constructor(serverless: unknown, options: Record<string, unknown>);
    create(lambdas: Array<{ functionKey: string; functionDefinition: unknown }>): void;
    get(functionKey: string): LambdaFunction;
    cleanup(): Promise<void>;
  }
}
