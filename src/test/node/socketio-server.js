// A Socket.IO server with its default settings on a free port of 127.0.0.1. Prints "PORT <n>" once listening.
// Each client gets a "welcome" event; an "echo" event comes back as "echoed" with the same payload and the
// transport it arrived on; "disconnect" is printed as "DISCONNECT <reason>".
const http = require('http');
const { Server } = require('socket.io');

const server = http.createServer();
const io = new Server(server);
io.on('connection', (socket) => {
  console.log('CONNECT ' + socket.conn.transport.name);
  socket.emit('welcome', { id: socket.id });
  socket.on('echo', (payload, ack) => {
    socket.emit('echoed', { payload, transport: socket.conn.transport.name });
    if (typeof ack === 'function') {
      ack('acked');
    }
  });
  socket.on('disconnect', (reason) => console.log('DISCONNECT ' + reason));
});
server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
