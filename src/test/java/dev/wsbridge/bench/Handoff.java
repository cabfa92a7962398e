package dev.wsbridge.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/**
 * What one hand-off between threads costs on this machine, the unit the 1-connection latency figures are made
 * of: a message through the bridge in Tomcat passes from the poller to a worker thread, and through the Jetty
 * client's selector, where nginx's worker process does all of it on one.
 *
 * <p>Prints the median and 99th percentile of a round trip over {@code rounds} round trips, each as it is and
 * halved (one hand-off):
 * <ul>
 * <li>two threads waking each other with {@link LockSupport#unpark} (a pool hand-off: an executor's worker);</li>
 * <li>two threads each blocked in a {@link Selector} on one end of a loopback TCP connection, writing a byte to
 *     each other (what a proxy's event loop does per message, here between two threads);</li>
 * <li>one thread writing a byte to a loopback connection and reading it at the other end (the system calls,
 *     no hand-off).</li>
 * </ul>
 *
 * <p>Run after {@code mvn test-compile}: {@code java -cp target/test-classes dev.wsbridge.bench.Handoff [rounds]}
 * (20,000 by default, after 1,000 not counted).
 */
public final class Handoff {

    private Handoff() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        print("thread to thread, park/unpark", parkPingPong(rounds));
        print("thread to thread, selector on loopback TCP", selectorPingPong(rounds));
        print("one thread, loopback TCP write and read", sameThread(rounds));
    }

    private static void print(String what, long[] nanos) {
        Arrays.sort(nanos);
        double p50 = nanos[nanos.length / 2] / 1000.0;
        double p99 = nanos[(int) (nanos.length * 0.99)] / 1000.0;
        System.out.printf(Locale.ROOT, "%-45s round trip p50 %7.1f µs, p99 %7.1f µs; one way p50 %6.1f µs%n",
                what, p50, p99, p50 / 2);
    }

    private static volatile int turn;

    private static long[] parkPingPong(int rounds) throws InterruptedException {
        long[] times = new long[rounds];
        Thread main = Thread.currentThread();
        Thread other = new Thread(() -> {
            for (int i = 0; i < rounds + 1000; i++) {
                while (turn != 1) {
                    LockSupport.park();
                }
                turn = 0;
                LockSupport.unpark(main);
            }
        }, "handoff-park");
        other.setDaemon(true);
        other.start();
        for (int i = -1000; i < rounds; i++) {
            long t0 = System.nanoTime();
            turn = 1;
            LockSupport.unpark(other);
            while (turn != 0) {
                LockSupport.park();
            }
            if (i >= 0) {
                times[i] = System.nanoTime() - t0;
            }
        }
        other.join();
        return times;
    }

    private static long[] selectorPingPong(int rounds) throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            SocketChannel a = connect(server);
            SocketChannel b = server.accept();
            b.setOption(StandardSocketOptions.TCP_NODELAY, true);
            a.configureBlocking(false);
            b.configureBlocking(false);
            Thread echo = new Thread(() -> {
                try (Selector selector = Selector.open()) {
                    b.register(selector, SelectionKey.OP_READ);
                    ByteBuffer one = ByteBuffer.allocateDirect(1);
                    for (int i = 0; i < rounds + 1000; i++) {
                        one.clear();
                        while (b.read(one) == 0) {
                            selector.select();
                            selector.selectedKeys().clear();
                        }
                        one.flip();
                        b.write(one);
                    }
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }, "handoff-selector");
            echo.setDaemon(true);
            echo.start();
            long[] times = new long[rounds];
            try (Selector selector = Selector.open()) {
                a.register(selector, SelectionKey.OP_READ);
                ByteBuffer one = ByteBuffer.allocateDirect(1);
                for (int i = -1000; i < rounds; i++) {
                    long t0 = System.nanoTime();
                    one.clear().put((byte) 1).flip();
                    a.write(one);
                    one.clear();
                    while (a.read(one) == 0) {
                        selector.select();
                        selector.selectedKeys().clear();
                    }
                    if (i >= 0) {
                        times[i] = System.nanoTime() - t0;
                    }
                }
            }
            echo.join();
            a.close();
            b.close();
            return times;
        }
    }

    /** A loopback connection to {@code server}, sending each byte at once. */
    private static SocketChannel connect(ServerSocketChannel server) throws IOException {
        SocketChannel a = SocketChannel.open(server.getLocalAddress());
        a.setOption(StandardSocketOptions.TCP_NODELAY, true);
        return a;
    }

    private static long[] sameThread(int rounds) throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            try (SocketChannel a = connect(server); SocketChannel b = server.accept()) {
                ByteBuffer one = ByteBuffer.allocateDirect(1);
                long[] times = new long[rounds];
                for (int i = -1000; i < rounds; i++) {
                    long t0 = System.nanoTime();
                    one.clear().put((byte) 1).flip();
                    a.write(one);
                    one.clear();
                    b.read(one);
                    if (i >= 0) {
                        times[i] = System.nanoTime() - t0;
                    }
                }
                return times;
            }
        }
    }
}
