/** The part of express 4 the SNS emulator host uses (express is what serverless-offline-sns's server plugs into). */
declare module 'express' {
  import type { Server } from 'node:http';
  export interface Application {
    listen(port: number, host: string, callback: () => void): Server;
  }
  export default function express(): Application;
}
