/**
 * Faults of serverless-offline 13.9.0, mended in node_modules at install time (`npm ci` and `npm install` run
 * this after the build, from package.json's `prepare`). Two are in its Lambda runner:
 *
 * 1. Every invocation opens a MessageChannel to the handler's worker thread and never closes it. The open
 *    port's listener holds the invocation's event, so every event ever delivered stays in memory: the
 *    process grows by the size of everything its functions received until V8's heap limit ends it.
 * 2. A timed-out invocation terminates the instance's worker thread but keeps the instance, whose next
 *    invocations are posted to the dead thread and hang for the full timeout, again and again, until the
 *    idle instance is finally dropped (60–120 s later).
 *
 * The mend: a channel is closed once it has answered, and every invocation waiting on a worker thread that
 * ends (terminated, crashed) fails at once; a stopped runner is never reused, so the next invocation gets a
 * fresh worker thread; the timeout timer is cancelled when the handler answers first; the instance lets go
 * of its last event. serverless-offline 14 fixed both upstream but needs Serverless Framework v4.
 *
 * Two more make the runner behave as Lambda does where 13.9 has no bound at all:
 * - A function's `memorySize` is its worker thread's heap limit (V8's old generation, in MB). Lambda stops
 *   a function that outgrows its memory; a worker thread without a limit grew with uncollected garbage up
 *   to V8's default for the machine (GBs on a 24 GiB laptop), for every warm instance, and a function that
 *   needed more than its memorySize worked locally and failed on AWS.
 * - A worker thread that ended (crashed, out of memory) is replaced at the next invocation, as Lambda starts
 *   a new execution environment after its runtime exits; 13.9 posted every later invocation to the dead
 *   thread, where it waited for the whole timeout.
 *
 * 3. CORS of an HTTP API (`provider.httpApi.cors`): the allow-list was applied to preflights only; every
 *    other request from any Origin got `Access-Control-Allow-Origin: <that origin>`. API Gateway sends no
 *    CORS header to an origin that is not on the list, preflight or not; so does the mended server. An empty
 *    list (the local default) stopped the server at startup (hapi refuses an empty origin list); it now
 *    allows no origin.
 *
 * Each edit replaces one exact passage of 13.9.0; a file that already holds every edit is left alone, one
 * patched by an earlier version of this file asks for a reinstall, and any other content (another version)
 * stops the install with a message, never a silent half-patch.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const PATCHED_VERSION = '13.9.0';
const MARK = '[nginx-kafka-serverless patch]';

interface Edit {
  before: string;
  after: string;
}

interface FilePatch {
  file: string;
  edits: Edit[];
}

export const PATCHES: FilePatch[] = [
  {
    file: 'src/lambda/handler-runner/worker-thread-runner/WorkerThreadRunner.js',
    edits: [
      {
        before: `export default class WorkerThreadRunner {
  #workerThread = null

  constructor(funOptions, env) {
    const { codeDir, functionKey, handler, servicePath, timeout } = funOptions

    this.#workerThread = new Worker(
`,
        after: `export default class WorkerThreadRunner {
  #workerThread = null

  // ${MARK} the invocations waiting: their port, the worker thread they wait on, how to fail them
  #pending = new Map()

  // ${MARK} starts this instance's worker thread; again at the next invocation after one ended
  #start = null
  #ended = false

  constructor(funOptions, env) {
    const { codeDir, functionKey, handler, servicePath, timeout } = funOptions
    // ${MARK} the function's memorySize bounds its worker thread's heap, as Lambda stops a function
    // that outgrows its memory
    const memorySize = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) || 0

    this.#start = () => this.#watch(memorySize, new Worker(
`,
      },
      {
        before: `          timeout,
        },
      },
    )
  }
`,
        after: `          timeout,
        },
        resourceLimits: memorySize > 0 ? { maxOldGenerationSizeMb: memorySize } : {},
      },
    ))
    this.#start()
  }

  // ${MARK} a worker thread that ends (terminated after a timeout, crashed, out of memory) fails what
  // waits on it, and one that ended takes no more invocations
  #watch(memorySize, worker) {
    this.#workerThread = worker
    this.#ended = false
    const failPending = (err) => {
      if (this.#workerThread === worker) this.#ended = true
      for (const waiting of [...this.#pending.values()]) {
        if (waiting.worker === worker) waiting.fail(err)
      }
    }
    worker
      .on("error", (err) =>
        failPending(
          err?.code === "ERR_WORKER_OUT_OF_MEMORY"
            ? new Error(
                \`Runtime.OutOfMemory: the function ran out of its memorySize (\${memorySize} MB of heap); its instance starts again at the next invocation\`,
              )
            : err,
        ),
      )
      .on("exit", (code) => failPending(new Error(\`Worker stopped with exit code \${code}\`)))
  }
`,
      },
      {
        before: `      const { port1, port2 } = new MessageChannel()

      port1
        .on("message", (value) => {
          if (value instanceof Error) {
            rej(value)
            return
          }

          res(value)
        })
        // emitted if the worker thread throws an uncaught exception.
        // In that case, the worker will be terminated.
        .on("error", rej)
        // TODO
        .on("exit", (code) => {
          if (code !== 0) {
            rej(new Error(\`Worker stopped with exit code \${code}\`))
          }
        })
`,
        after: `      const { port1, port2 } = new MessageChannel()

      // ${MARK} one answer per channel: the port is closed once settled, so neither the port
      // nor the event its listener holds outlives the invocation
      const settle = (fn, value) => {
        this.#pending.delete(port1)
        port1.close()
        fn(value)
      }
      // ${MARK} a worker thread that ended is replaced, as Lambda starts a new execution environment
      // after its runtime exits: the invocation is a cold start, not a post to a dead thread
      if (this.#ended) this.#start()
      this.#pending.set(port1, { worker: this.#workerThread, fail: (err) => settle(rej, err) })
      port1.on("message", (value) => settle(value instanceof Error ? rej : res, value))
`,
      },
    ],
  },
  {
    file: 'src/lambda/handler-runner/HandlerRunner.js',
    edits: [
      {
        before: `  cleanup() {
    // TODO console.log('handler runner cleanup')
    return this.#runner.cleanup()
  }
`,
        after: `  cleanup() {
    // ${MARK} a stopped runner is never used again: the next invocation loads a new one
    const runner = this.#runner
    this.#runner = null
    return runner?.cleanup()
  }
`,
      },
    ],
  },
  {
    file: 'src/events/http/HttpServer.js',
    edits: [
      {
        before: `          if (request.method === "options") {
            response.statusCode = 204
            const allowAllOrigins =
              httpApiCors.allowedOrigins.length === 1 &&
              httpApiCors.allowedOrigins[0] === "*"
            if (
              !allowAllOrigins &&
              !httpApiCors.allowedOrigins.includes(request.headers.origin)
            ) {
              return h.continue
            }
          }
`,
        after: `          if (request.method === "options") {
            response.statusCode = 204
          }
          // ${MARK} an origin not on the list gets no CORS header, whatever the method
          const allowAllOrigins =
            httpApiCors.allowedOrigins.length === 1 &&
            httpApiCors.allowedOrigins[0] === "*"
          if (
            !allowAllOrigins &&
            !httpApiCors.allowedOrigins.includes(request.headers.origin)
          ) {
            return h.continue
          }
`,
      },
      {
        before: `        origin: httpApiCors.allowedOrigins || [],
      }
    }
`,
        after: `        origin: httpApiCors.allowedOrigins || [],
      }
      // ${MARK} an empty allow-list allows nothing: hapi's own CORS stays off (it refuses an empty list)
      if (cors.origin.length === 0) cors = null
    }
`,
      },
    ],
  },
  {
    file: 'src/lambda/LambdaFunction.js',
    edits: [
      {
        before: `  async #timeoutAndTerminate() {
    await setTimeout(this.#timeout)
`,
        after: `  // ${MARK} cancelled when the handler answers first
  async #timeoutAndTerminate(signal) {
    await setTimeout(this.#timeout, undefined, { signal })
`,
      },
      {
        before: `    let result

    try {
      result = await Promise.race([
        this.#handlerRunner.run(this.#event, context),
        ...(this.#noTimeout ? [] : [this.#timeoutAndTerminate()]),
      ])
`,
        after: `    let result
    const deadline = new AbortController()

    try {
      result = await Promise.race([
        this.#handlerRunner.run(this.#event, context),
        ...(this.#noTimeout ? [] : [this.#timeoutAndTerminate(deadline.signal)]),
      ])
`,
      },
      {
        before: `    } finally {
      this.#status = "IDLE"
`,
        after: `    } finally {
      // ${MARK} no timer and no event outlive the invocation
      deadline.abort()
      this.#event = null
      this.#status = "IDLE"
`,
      },
    ],
  },
];

export class PatchError extends Error {}

/** Applies the edits in place; returns what it did per file. Throws PatchError when a passage is not there. */
export function patchServerlessOffline(root: string): string[] {
  const manifest = join(root, 'package.json');
  if (!existsSync(manifest)) {
    throw new PatchError(`serverless-offline is not installed at ${root}: run npm ci`);
  }
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  if (version !== PATCHED_VERSION) {
    throw new PatchError(
      `serverless-offline ${version} is installed, the patch in local/offline-patches/serverless-offline.ts is for ${PATCHED_VERSION}: ` +
        'pin serverless-offline to that version in package.json, or update the patch for the new version',
    );
  }
  const done: string[] = [];
  for (const { file, edits } of PATCHES) {
    const path = join(root, file);
    let text = readFileSync(path, 'utf8');
    if (edits.every(({ after }) => text.includes(after))) {
      done.push(`${file}: already patched`);
      continue;
    }
    if (text.includes(MARK)) {
      throw new PatchError(
        `${path} carries an earlier version of this patch; reinstall it with rm -rf node_modules/serverless-offline && npm install`,
      );
    }
    for (const { before, after } of edits) {
      const at = text.indexOf(before);
      if (at === -1 || text.indexOf(before, at + 1) !== -1) {
        throw new PatchError(
          `${path} does not hold the passage the patch replaces exactly once (first line: ${JSON.stringify(before.split('\n')[0])}); reinstall with npm ci`,
        );
      }
      text = text.slice(0, at) + after + text.slice(at + before.length);
    }
    writeFileSync(path, text);
    done.push(`${file}: patched`);
  }
  return done;
}

if (require.main === module) {
  try {
    // The package exports only its entry points: its folder is two levels above src/lambda/index.js.
    const lambda = require.resolve('serverless-offline/lambda', { paths: [process.cwd()] });
    const root = join(dirname(lambda), '..', '..');
    for (const line of patchServerlessOffline(root)) console.log(`serverless-offline patch: ${line}`);
  } catch (err) {
    console.error(`serverless-offline patch: ${(err as Error).message}`);
    process.exit(1);
  }
}
