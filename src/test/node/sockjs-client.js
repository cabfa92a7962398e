// The SockJS client against the URL given, with its default settings, or with only the transport named by the
// second argument (such as xhr-streaming); trusts the certificate named by NODE_EXTRA_CA_CERTS. Opens, sends a
// message, reads the echo, closes; prints one line per step and "OK" last, exits 1 on failure.
const SockJS = require('sockjs-client');

const url = process.argv[2];
const transport = process.argv[3];
const fail = (why) => {
  console.log('FAIL ' + why);
  process.exit(1);
};
setTimeout(() => fail('timed out'), 20000).unref();

const sock = transport ? new SockJS(url, null, { transports: [transport] }) : new SockJS(url);
sock.onopen = () => {
  console.log('OPENED ' + sock.transport);
  sock.send('héllo sockjs');
};
sock.onmessage = (e) => {
  console.log('ECHOED ' + e.data);
  sock.close(1000, 'done');
};
sock.onclose = (e) => {
  if (e.code !== 1000) {
    fail('closed ' + e.code + ' ' + e.reason);
  }
  console.log('CLOSED ' + e.code);
  console.log('OK');
  process.exit(0);
};
