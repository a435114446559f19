// node-bootstrap.js - Tandem's Node.js runtime: loads the handler named by
// _HANDLER ("file.export", file relative to LAMBDA_TASK_ROOT, .js/.mjs/.cjs)
// and serves invocations over the Lambda Runtime API at
// AWS_LAMBDA_RUNTIME_API. Supports async handlers, handlers returning
// promises and callback handlers (event, context, callback). Uses only
// Node's standard library.
'use strict';

const http = require('http');
const path = require('path');
const fs = require('fs');
const url = require('url');

const API = process.env.AWS_LAMBDA_RUNTIME_API;
const BASE = '/2018-06-01/runtime';

function request(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const [host, port] = API.split(':');
    const data = body === undefined ? undefined : Buffer.from(body);
    const req = http.request({host, port, method, path: BASE + p, agent: keepAlive,
      headers: Object.assign(data ? {'Content-Type': 'application/json',
        'Content-Length': data.length} : {}, headers || {})}, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode, headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8')}));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}
const keepAlive = new http.Agent({keepAlive: true, maxSockets: 1});

function errorBody(err) {
  if (!(err instanceof Error)) {
    return {errorType: 'string', errorMessage: String(err), trace: []};
  }
  return {errorType: err.name || 'Error', errorMessage: err.message,
    trace: String(err.stack || '').split('\n')};
}

async function loadHandler() {
  const h = process.env._HANDLER || '';
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const dot = h.lastIndexOf('.');
  if (dot <= 0) {
    const e = new Error(`Bad handler ${h}: expected FILE.EXPORT`);
    e.name = 'Runtime.MalformedHandlerName';
    throw e;
  }
  const mod = h.slice(0, dot);
  const fnName = h.slice(dot + 1);
  let file = null;
  for (const ext of ['.js', '.mjs', '.cjs']) {
    const p = path.resolve(root, mod + ext);
    if (fs.existsSync(p)) { file = p; break; }
  }
  if (!file) {
    const e = new Error(`Cannot find module '${mod}'`);
    e.name = 'Runtime.ImportModuleError';
    throw e;
  }
  let m;
  if (file.endsWith('.mjs')) {
    m = await import(url.pathToFileURL(file).href);
  } else {
    try {
      m = require(file);
    } catch (err) {
      if (err && err.code === 'ERR_REQUIRE_ESM') {
        m = await import(url.pathToFileURL(file).href);
      } else {
        throw err;
      }
    }
  }
  const fn = m[fnName] || (m.default && m.default[fnName]);
  if (typeof fn !== 'function') {
    const e = new Error(`${h} is undefined or not exported`);
    e.name = 'Runtime.HandlerNotFound';
    throw e;
  }
  return fn;
}

function runOne(handler, event, context) {
  return new Promise((resolve, reject) => {
    let done = false;
    const callback = (err, result) => {
      if (done) return;
      done = true;
      if (err !== null && err !== undefined) reject(err); else resolve(result);
    };
    context.done = callback;
    context.succeed = (r) => callback(null, r);
    context.fail = (e) => callback(e || new Error('failed'));
    try {
      const r = handler.length >= 3 ? handler(event, context, callback)
                                    : handler(event, context);
      if (r && typeof r.then === 'function') {
        r.then((v) => callback(null, v), (e) => callback(e));
      } else if (handler.length < 3) {
        callback(null, r);
      }
    } catch (err) {
      callback(err);
    }
  });
}

// a JSON header of /next (the client context, the Cognito identity) as the
// Node.js runtime gives it to the handler: parsed, or undefined when absent
function headerJson(value) {
  if (!value) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    return undefined;
  }
}

async function main() {
  let handler;
  try {
    handler = await loadHandler();
  } catch (err) {
    console.error(err);
    await request('POST', '/init/error', JSON.stringify(errorBody(err)),
      {'Lambda-Runtime-Function-Error-Type': err.name || 'Runtime.Unknown'});
    process.exit(1);
  }
  for (;;) {
    const next = await request('GET', '/invocation/next');
    if (next.status !== 200) process.exit(0);
    const id = next.headers['lambda-runtime-aws-request-id'];
    const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
    process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'] || '';
    const context = {
      awsRequestId: id,
      invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      callbackWaitsForEmptyEventLoop: true,
      clientContext: headerJson(next.headers['lambda-runtime-client-context']),
      identity: headerJson(next.headers['lambda-runtime-cognito-identity']),
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let event;
    try {
      event = JSON.parse(next.body);
    } catch (err) {
      event = next.body;
    }
    try {
      const result = await runOne(handler, event, context);
      const body = result === undefined ? 'null' : JSON.stringify(result);
      await request('POST', `/invocation/${id}/response`, body);
    } catch (err) {
      console.error(`${new Date().toISOString()}\t${id}\tERROR\t`, err);
      await request('POST', `/invocation/${id}/error`, JSON.stringify(errorBody(err)),
        {'Lambda-Runtime-Function-Error-Type': (err && err.name) || 'Error'});
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
