// A SockJS echo server with its default settings under the prefix /echo, on a free port of 127.0.0.1.
// Prints "PORT <n>" once listening, "OPEN <protocol>" for each session and "CLOSE" when it ends.
const http = require('http');
const sockjs = require('sockjs');

const echo = sockjs.createServer({ log: () => {} });
echo.on('connection', (conn) => {
  console.log('OPEN ' + conn.protocol);
  conn.on('data', (message) => conn.write(message));
  conn.on('close', () => console.log('CLOSE'));
});
const server = http.createServer();
echo.installHandlers(server, { prefix: '/echo' });
server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
