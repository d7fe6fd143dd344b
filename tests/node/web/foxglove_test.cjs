// A Foxglove client (@foxglove/ws-protocol over the ws package) against
// `shmsnap serve --foxglove`: it sees serverInfo and the advertised channels,
// subscribes, first receives the history the server recorded before (the replay,
// oldest first) and then live values, and every message it receives validates (ajv)
// against the channel's advertised JSON Schema. Then hostile WebSocket input: a missing subprotocol,
// garbage JSON, a binary frame and an oversized frame; the server stays up and the
// publisher keeps going. (A client that stops reading: serve_test.cpp, which can
// shrink its socket's receive buffer.)
// Every wait has a deadline; run by ctest (tests/integration/serve.cmake).
'use strict';
const { FoxgloveClient } = require('@foxglove/ws-protocol');
const WebSocket = require('ws');
const Ajv = require('ajv');
const http = require('node:http');
const { cleanUp, fail, patienceMs, startPublisher, startServe } = require('./support.cjs');

function until(description, predicate) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + patienceMs;
    const check = async () => {
      try {
        if (await predicate()) return resolve();
      } catch { /* retry */ }
      if (Date.now() > deadline) return reject(new Error('timed out waiting for ' + description));
      setTimeout(check, 25);
    };
    check();
  });
}

function get(address, path) {
  return new Promise((resolve, reject) => {
    http.get(`http://${address}${path}`, (response) => {
      let body = '';
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, body }));
    }).on('error', reject);
  });
}

async function main() {
  const sockets = [];
  try {
    const serve = await startServe(['--foxglove', '127.0.0.1:0', '--sample-ms', '20', '--max-send-kib', '64']);
    await startPublisher('robot_pose', 'robot.pose', 200);
    await startPublisher('quote_book', 'market.quote_book', 1000);
    const url = `ws://${serve.foxglove}/`;

    // A well-behaved client.
    const ws = new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
    sockets.push(ws);
    const client = new FoxgloveClient({ ws });
    let serverInfo = null;
    const channels = new Map();
    const validators = new Map();
    const received = [];
    const ajv = new Ajv({ allErrors: true, strict: false });
    client.on('serverInfo', (info) => { serverInfo = info; });
    client.on('advertise', (list) => {
      for (const channel of list) channels.set(channel.id, channel);
    });
    client.on('message', ({ subscriptionId, timestamp, data }) => {
      received.push({ subscriptionId, timestampNs: timestamp, text: new TextDecoder().decode(data) });
    });
    await until('serverInfo and the robot_pose channel', () =>
      serverInfo && [...channels.values()].some((channel) => channel.topic === 'robot_pose'));
    if (serverInfo.supportedEncodings[0] !== 'json') fail('serverInfo: ' + JSON.stringify(serverInfo));
    const pose = [...channels.values()].find((channel) => channel.topic === 'robot_pose');
    if (pose.encoding !== 'json' || pose.schemaEncoding !== 'jsonschema' || pose.schemaName !== 'robot.pose') {
      fail('channel: ' + JSON.stringify(pose));
    }
    // Foxglove shows a field's JSON Schema description: it carries the unit.
    const x = JSON.parse(pose.schema).properties.position.properties.x;
    if (x.unit !== 'm' || x.description !== 'unit: m') fail('position.x in the schema: ' + JSON.stringify(x));
    validators.set(pose.id, ajv.compile(JSON.parse(pose.schema)));
    // Let the server record over a second of history before subscribing.
    const historySpanMs = async () => {
      const points = JSON.parse((await get(serve.http, '/api/topics/robot_pose/history?window=60')).body)
        .fields.find((field) => field.field === 'position.x').points;
      return points.at(-1)[0] - points[0][0];
    };
    await until('a second of recorded history', async () => (await historySpanMs()) >= 1000);
    const subscribedAtNs = BigInt(Date.now()) * 1_000_000n;
    const subscription = client.subscribe(pose.id);
    await until('20 messages', () => received.filter((m) => m.subscriptionId === subscription).length >= 20);
    // Foxglove's first view starts back in time: the server replays its history, oldest
    // first, before the live values (which follow in publish order).
    const first = received.filter((m) => m.subscriptionId === subscription);
    if (subscribedAtNs - first[0].timestampNs < 900_000_000n) {
      fail(`the first message is only ${(subscribedAtNs - first[0].timestampNs) / 1_000_000n} ms old: no history replayed`);
    }
    for (let index = 1; index < first.length; ++index) {
      if (first[index].timestampNs < first[index - 1].timestampNs) fail(`message ${index} goes back in time`);
    }
    if (typeof JSON.parse(first[0].text).position.x !== 'number') fail('a replayed message without position.x: ' + first[0].text);
    // Live values carry every field (the replay only the numeric ones).
    if (typeof JSON.parse(first.at(-1).text).frame_id !== 'string') fail('a live message without frame_id: ' + first.at(-1).text);
    const validate = validators.get(pose.id);
    for (const message of received.filter((m) => m.subscriptionId === subscription)) {
      const value = JSON.parse(message.text);
      if (!validate(value)) fail('message does not match its schema: ' + ajv.errorsText(validate.errors));
    }
    // The schema is not vacuous: a wrong value fails it.
    if (validate({ frame_id: 7 })) fail('the advertised schema accepts anything');
    console.log(`${received.length} messages validated against the advertised schema`);
    client.unsubscribe(subscription);

    // Hostile: no subprotocol -> refused during the handshake.
    await new Promise((resolve) => {
      const bare = new WebSocket(url);
      bare.on('unexpected-response', (request, response) => {
        if (response.statusCode !== 400) fail('no subprotocol got ' + response.statusCode);
        request.destroy();
        resolve();
      });
      bare.on('open', () => fail('a client without the subprotocol was accepted'));
      bare.on('error', () => resolve());
    });

    // Hostile: garbage JSON and a binary frame get error statuses; the connection stays.
    const rude = new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
    sockets.push(rude);
    const statuses = [];
    rude.on('message', (data, binary) => {
      if (!binary) {
        const message = JSON.parse(data.toString());
        if (message.op === 'status') statuses.push(message);
      }
    });
    await new Promise((resolve) => rude.on('open', resolve));
    rude.send('{"op": "subscribe", "subscriptions": [{"id": -1}]}');
    rude.send('not json at all');
    rude.send(Buffer.from([1, 2, 3, 4, 5]));
    rude.send('{"op":"advertise","channels":[]}');
    await until('four error statuses', () => statuses.filter((status) => status.level === 2).length >= 4);
    console.log('bad frames answered with error statuses');

    // Hostile: an oversized frame closes that connection.
    let closed = false;
    rude.on('close', () => { closed = true; });
    rude.send('x'.repeat(1024 * 1024));
    await until('the oversized frame closes the connection', () => closed);
    console.log('oversized frame: connection closed');

    // The publishers never noticed, and the well-behaved client still gets data.
    const published = async () => JSON.parse((await get(serve.http, '/api/topics/quote_book')).body).published_total;
    const start = await published();
    await until('the publisher keeps publishing', async () => (await published()) > start + 100);
    const count = received.length;
    const again = client.subscribe(pose.id);
    await until('data after the hostile clients', () => received.length > count && received.at(-1).subscriptionId === again);
    console.log('server and publisher unaffected');
  } finally {
    for (const socket of sockets) socket.terminate();
    await cleanUp();
  }
  console.log('PASS');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
