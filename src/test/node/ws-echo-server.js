// A plain WebSocket echo server (the ws package) on a free port of 127.0.0.1: a backend in a process of its own,
// for a test that kills it as a backend host dies (the kernel then closes every connection it had). Prints
// "PORT <n>" once listening and "OPEN <path>" for each session.
const { WebSocketServer } = require('ws');

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
server.on('listening', () => console.log('PORT ' + server.address().port));
server.on('connection', (ws, request) => {
  console.log('OPEN ' + request.url);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
