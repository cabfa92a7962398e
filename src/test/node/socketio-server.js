// A Socket.IO server with its default settings on a free port of 127.0.0.1. Prints "PORT <n>" once listening.
// Each client gets a "welcome" event; an "echo" event comes back as "echoed" with the same payload and the
// transport it arrived on; both carry the server's port as "backend", to tell several servers apart.
// "disconnect" is printed as "DISCONNECT <reason>", a request Engine.IO refused (such as a poll or an upgrade
// for a session this server does not hold) as "CONNECTION_ERROR <code> <message>".
const http = require('http');
const { Server } = require('socket.io');

const server = http.createServer();
const io = new Server(server);
io.engine.on('connection_error', (e) => console.log('CONNECTION_ERROR ' + e.code + ' ' + e.message));
io.on('connection', (socket) => {
  console.log('CONNECT ' + socket.conn.transport.name);
  const backend = server.address().port;
  socket.emit('welcome', { id: socket.id, backend });
  socket.on('echo', (payload, ack) => {
    socket.emit('echoed', { payload, transport: socket.conn.transport.name, backend });
    if (typeof ack === 'function') {
      ack('acked');
    }
  });
  socket.on('disconnect', (reason) => console.log('DISCONNECT ' + reason));
});
server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
