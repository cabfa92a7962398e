// The Socket.IO client with its default settings (long-polling first, then the upgrade to WebSocket on the same
// path) against the URL given, trusting the certificate named by NODE_EXTRA_CA_CERTS; from the local address given
// second (such as 127.0.0.12), if any, for every request. Connects, waits for the upgrade, exchanges events both
// ways, disconnects; prints one line per step (with the port of the server that answered) and "OK" last, exits 1
// on failure.
const https = require('https');
const { io } = require('socket.io-client');

const url = process.argv[2];
const localAddress = process.argv[3];
const fail = (why) => {
  console.log('FAIL ' + why);
  process.exit(1);
};
setTimeout(() => fail('timed out'), 20000).unref();

const socket = io(url, localAddress ? { agent: new https.Agent({ localAddress }) } : {});
const first = new Promise((resolve) => socket.io.engine.once('open', () => resolve(socket.io.engine.transport.name)));
const upgraded = new Promise((resolve) => socket.io.engine.once('upgrade', (t) => resolve(t.name)));
const welcome = new Promise((resolve) => socket.once('welcome', resolve));
socket.on('connect_error', (e) => fail('connect_error ' + e.message));

(async () => {
  console.log('OPENED ' + (await first));
  console.log('WELCOME from ' + (await welcome).backend);
  console.log('UPGRADED ' + (await upgraded));
  const echoed = new Promise((resolve) => socket.once('echoed', resolve));
  const ack = await socket.timeout(10000).emitWithAck('echo', { text: 'héllo', n: 42 });
  const back = await echoed;
  console.log('ECHOED ' + JSON.stringify(back.payload) + ' over ' + back.transport + ' from ' + back.backend + ' ack ' + ack);
  socket.disconnect();
  console.log('OK');
  process.exit(0);
})().catch((e) => fail(e.message));
