/** The part of express 4 the SNS emulator host uses (express is what serverless-offline-sns's server plugs into). */
declare module 'express' {
  import type { Server } from 'node:http';
  export interface Response {
    status(code: number): Response;
    type(type: string): Response;
    send(body: string): void;
  }
  export interface Application {
    listen(port: number, host: string, callback: () => void): Server;
    /** An error handler: express calls it with what a route threw. */
    use(
      handler: (err: unknown, request: unknown, response: Response, next: (err: unknown) => void) => void,
    ): void;
  }
  export default function express(): Application;
}
