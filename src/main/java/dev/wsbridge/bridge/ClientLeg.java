package dev.wsbridge.bridge;

import dev.wsbridge.frame.FrameParser;
import dev.wsbridge.frame.Frames;
import dev.wsbridge.frame.PerMessageDeflate;
import dev.wsbridge.frame.ProtocolException;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.WebConnection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client leg: the client's connection taken over with the Servlet API's upgrade, driven only by
 * {@link ReadListener}/{@link WriteListener} and {@code isReady()}; no read or write ever blocks.
 *
 * <p>Reading: a burst (what one read returns) is parsed ({@link FrameParser}) and its data pieces go to the
 * backend, all but the last batched, so a burst costs one backend write; the next read happens only when the
 * backend has taken them all. The read buffer comes from the pool for the burst and goes back after it.
 *
 * <p>Writing: backend frames are written without a flush while the backend's burst lasts and flushed once
 * at its end ({@link #flushBurst}); a frame written while the connection is not ready waits, with its
 * completion, until {@link #onWritePossible}, which holds the backend's reading back. Every {@code write} and
 * {@code flush} follows an {@code isReady()} that said yes, as the Servlet API asks (Jetty enforces it, and
 * keeps the written array until its write is done); a frame cut short by a "no" is finished in
 * {@link #onWritePossible} before anything else. Pings are answered here; a close frame is the last thing
 * written, and the connection closes once the close handshake is done.
 *
 * <p>With permessage-deflate agreed ({@link #compression}), the client's pieces go through {@link Inflating}
 * and the frames written to it through {@link Deflating}; without it neither exists and no frame costs more.
 *
 * <p>Public with a public constructor: the container instantiates it in {@code request.upgrade(...)}.
 */
public final class ClientLeg implements HttpUpgradeHandler, ReadListener, WriteListener, Leg, FrameParser.Sink {

    private static final Logger LOG = LoggerFactory.getLogger(ClientLeg.class);

    private static final int NOT_READY = -2;
    private static final int LOST = -3;
    /** Read on within a burst only while this much of the read buffer is free. */
    private static final int READ_ON_ROOM = 4 * 1024;

    /** Bytes read at once from the client. */
    private static final int READ_BUFFER = 16 * 1024;
    /** Payloads up to this size are written together with their header, in one call. */
    private static final int SMALL = 512;

    private Relay relay;
    private Half toBackend;
    private WebConnection connection;
    private ServletInputStream in;
    private ServletOutputStream out;
    private volatile boolean opened;
    /** When the client last sent data, a ping or a close, or was written data: what the idle timeout counts. */
    private volatile long lastActivity = System.nanoTime();
    /** When anything (a pong included) was last read from the client: what keep-alive pings count. */
    private volatile long lastRead = System.nanoTime();
    /** When the last keep-alive ping went out; 0 before the first. */
    private volatile long pingWrittenAt;
    /** Whether the burst being parsed held a data frame, a ping or a close. */
    private boolean burstTraffic;

    // ---- reading: one reader at a time, the container's or whichever completes the last backend write ----
    private final FrameParser parser = new FrameParser();
    /** Backend writes of the current burst not yet complete, plus one while the burst is being parsed. */
    private final AtomicInteger pending = new AtomicInteger();
    /** Calls to {@link #pump} not yet served; the caller that moves it from 0 reads for all of them. */
    private final AtomicInteger wakeups = new AtomicInteger();
    private RetainableByteBuffer readBuffer;
    /** When the last burst was parsed and all of it handed to the backend leg. */
    private volatile long burstForwarded;
    private boolean readStopped;
    /** Read on within a burst while the connection has more ({@link #readOnWithinBursts}). */
    private boolean readOn;
    /** Reading met the end of the connection, kept until the burst read before it has been forwarded. */
    private boolean readLost;
    /** Why, when the connection failed rather than ended; or null. */
    private Throwable readFailure;
    private boolean deferred;
    private boolean deferredText;
    private ByteBuffer deferredPiece;
    private boolean deferredEnd;
    private final Callback sent = new Callback() {
        @Override
        public void succeeded() {
            if (pending.decrementAndGet() == 0) {
                // The next burst may already be parsed (and burstForwarded moved on): never a negative time, which
                // the metrics refuse with an exception that would keep pump() from running.
                toBackend.traffic().held(Math.max(0, System.nanoTime() - burstForwarded));
                pump();
            }
        }

        @Override
        public void failed(Throwable x) {
            relay.backendWriteFailed(x);
            succeeded();
        }
    };

    // ---- writing: under outLock; no call under it waits ----
    private final Object outLock = new Object();
    private final byte[] header = new byte[Frames.MAX_HEADER + SMALL];
    /** The last isReady() said yes (and no onWritePossible is owed). */
    private boolean writable;
    /** Written since the last flush. */
    private boolean dirty;
    /** The rest of a data frame's payload, not yet written when the connection stopped being ready. */
    private ByteBuffer rest;
    /** The copy of a direct payload's piece that the last write may still be reading. */
    private RetainableByteBuffer copy;
    /** Completion of a written data frame, owed once the connection is ready again. */
    private Callback waiting;
    /** A data frame that arrived while the connection was not ready. */
    private Pending stash;
    /** The payload of a ping asked for while the connection was not ready (the latest), or null. */
    private byte[] pingOwed;
    /** The latest ping's payload, when its pong could not be written at once. */
    private byte[] pong;
    /** A close frame's payload, owed until written. */
    private byte[] closeFrame;
    private boolean closeWritten;
    private boolean closeFlushed;
    private boolean closeReceived;
    /** A failure of {@link #sendNow}, read and cleared under {@code outLock}. */
    private Throwable sendFailure;
    /** Close the connection as soon as the close frame is out, without waiting for the client's. */
    private boolean failFast;
    private boolean connectionClosed;

    private record Pending(byte opcode, boolean fin, ByteBuffer payload, boolean batch, Callback done) {
    }

    /** What the container needs done after the connection is closed from one of our threads. */
    private Consumer<ServletOutputStream> afterClose = o -> { };
    /** Finds the lock the container holds while it calls {@link #onDataAvailable}, if it has one. */
    private Function<ServletOutputStream, Lock> containerReadLock = o -> null;
    /**
     * Held around each readiness check and read: a read on one of our threads (after a backend write) must
     * not overlap the container looking at the same connection for its next read event.
     */
    private Lock readLock;
    /** What the container needs done before the connection's streams are first used. */
    private Runnable beforeInit = () -> { };
    /** The connection, when the container handed it over before {@link #attach} (Jetty 12.1.0 to 12.1.3). */
    private WebConnection early;
    /** What was agreed with the client on permessage-deflate, or null. */
    private PerMessageDeflate.Agreement agreement;
    /** Inflates the client's compressed messages; null without permessage-deflate. */
    private Inflating inflating;
    /** Compresses the frames to the client; null without permessage-deflate. Used under {@code outLock}. */
    private Deflating deflating;

    public ClientLeg() {
        // Made by the container in request.upgrade(), then attached to its relay.
    }

    /** Sets what to do after closing the connection, so the container closes its socket at once. */
    public void afterClose(Consumer<ServletOutputStream> action) {
        this.afterClose = action;
    }

    /** Sets how to find the container's own lock for the connection's reads. */
    public void containerReadLock(Function<ServletOutputStream, Lock> finder) {
        this.containerReadLock = finder;
    }

    /** Sets what to do with the connection before its streams are first used; runs on the thread that starts the leg. */
    public void beforeInit(Runnable action) {
        this.beforeInit = action;
    }

    /**
     * Makes each burst read on while the connection already has more, for containers whose upgraded input
     * hands over one TLS record per read (Jetty 12.1): else every record would cost its own backend write.
     */
    public void readOnWithinBursts() {
        this.readOn = true;
    }

    /** Sets what was agreed with the client on permessage-deflate in the 101 answer; before the leg is attached. */
    public void compression(PerMessageDeflate.Agreement agreed) {
        this.agreement = agreed;
    }

    void attach(Relay relay, Half toBackend) {
        WebConnection handedOver;
        if (agreement != null) {
            parser.allowCompression();
            inflating = new Inflating(relay, toBackend, sent, agreement.resetInflater());
            deflating = new Deflating(relay.pool(), agreement.resetDeflater(), relay.config().deflate().minSize());
        }
        synchronized (this) {
            this.relay = relay;
            this.toBackend = toBackend;
            handedOver = early;
            early = null;
        }
        if (handedOver != null) {
            start(handedOver);
        }
    }

    boolean opened() {
        return opened;
    }

    long lastActivity() {
        return lastActivity;
    }

    long lastRead() {
        return lastRead;
    }

    long pingWrittenAt() {
        return pingWrittenAt;
    }

    // ---- the container's side ----

    /**
     * Starts the leg, or, when the container calls this from inside {@code request.upgrade(...)} (Jetty 12.1.0 to
     * 12.1.3) before the leg is attached to its relay, leaves the start to {@link #attach}.
     */
    @Override
    public void init(WebConnection webConnection) {
        synchronized (this) {
            if (relay == null) {
                early = webConnection;
                return;
            }
        }
        start(webConnection);
    }

    private void start(WebConnection webConnection) {
        beforeInit.run();
        connection = webConnection;
        try {
            in = webConnection.getInputStream();
            out = webConnection.getOutputStream();
        } catch (IOException e) {
            closeConnection();
            relay.clientGone(e);
            return;
        }
        Lock lock = containerReadLock.apply(out);
        readLock = lock != null ? lock : new ReentrantLock();
        opened = true;
        relay.clientOpened();
        in.setReadListener(this);
        out.setWriteListener(this);
    }

    @Override
    public void destroy() {
        relay.clientGone(null);
    }

    @Override
    public void onDataAvailable() {
        pump();
    }

    @Override
    public void onAllDataRead() {
        closeConnection();
        relay.clientGone(null);
    }

    @Override
    public void onError(Throwable failure) {
        closeConnection();
        relay.clientGone(failure);
    }

    // ---- reading ----

    /**
     * Reads and forwards bursts until the connection has no more bytes or the backend is still taking the
     * last one. Called by the container ({@link #onDataAvailable}, which Tomcat also calls while a backend
     * write is in flight) and by the backend write that completes a burst; whoever comes while another
     * caller is reading only asks it to look again, so exactly one thread reads at a time.
     */
    private void pump() {
        if (wakeups.getAndIncrement() != 0) {
            return;
        }
        int seen = 1;
        do {
            readBursts();
            seen = wakeups.addAndGet(-seen);
        } while (seen != 0);
    }

    private void readBursts() {
        while (pending.get() == 0) {
            if (readStopped || connectionClosed) {
                releaseReadBuffer();
                return;
            }
            if (readLost) {
                // The end or failure that stopped the last burst's reading, once that burst is forwarded.
                Throwable lost = readFailure;
                readLost = false;
                readFailure = null;
                releaseReadBuffer();
                closeConnection();
                relay.clientGone(lost);
                return;
            }
            int n = read(0);
            if (n == NOT_READY) {
                // The container calls onDataAvailable when more arrives.
                releaseReadBuffer();
                return;
            }
            if (n == LOST || n == 0) {
                continue;
            }
            long now = System.nanoTime();
            lastRead = now;
            burstTraffic = false;
            pending.set(1);
            try {
                ByteBuffer buffer = readBuffer.getByteBuffer();
                byte[] bytes = buffer.array();
                int offset = buffer.arrayOffset();
                if (!parser.parse(bytes, offset, n, this)) {
                    readStopped = true;
                }
                // Where each read hands over one TLS record (Jetty), the rest of what has arrived is read and
                // parsed too, into the buffer's free end, so that the burst leaves in one flush.
                int used = n;
                int more;
                while (readOn && !readStopped && READ_BUFFER - used >= READ_ON_ROOM && (more = read(used)) > 0) {
                    if (!parser.parse(bytes, offset + used, more, this)) {
                        readStopped = true;
                    }
                    used += more;
                }
                if (burstTraffic) {
                    lastActivity = now;
                }
                sendDeferred(false);
                if (inflating != null) {
                    inflating.iterate();
                }
            } catch (ProtocolException e) {
                deferred = false;
                deferredPiece = null;
                readStopped = true;
                failFast = true;
                relay.clientProtocolError(e.code(), e.getMessage());
            }
            // The last backend write of the burst to complete brings pending to 0 and calls pump() again; it
            // counts the time since this as held back. Set before the decrement that lets that write see it.
            burstForwarded = System.nanoTime();
            pending.decrementAndGet();
        }
    }

    /**
     * One read into the read buffer from {@code at}, if the connection is ready.
     *
     * @return the bytes read, {@link #NOT_READY}, or {@link #LOST} when the connection ended or failed (noted in
     *     {@link #readLost} for the next turn of {@link #readBursts}, once what was read before it is forwarded)
     */
    private int read(int at) {
        int n;
        readLock.lock();
        try {
            if (!in.isReady()) {
                return NOT_READY;
            }
            // The buffer is taken from the pool only when there is something to read into it.
            if (readBuffer == null) {
                readBuffer = relay.pool().acquire(READ_BUFFER, false);
            }
            ByteBuffer buffer = readBuffer.getByteBuffer();
            n = in.read(buffer.array(), buffer.arrayOffset() + at, READ_BUFFER - at);
        } catch (IOException | RuntimeException e) {
            readLost = true;
            readFailure = e;
            return LOST;
        } finally {
            readLock.unlock();
        }
        if (n < 0) {
            readLost = true;
            return LOST;
        }
        return n;
    }

    private void releaseReadBuffer() {
        if (readBuffer != null) {
            readBuffer.release();
            readBuffer = null;
        }
    }

    @Override
    public boolean data(boolean text, ByteBuffer piece, boolean messageEnd) {
        burstTraffic = true;
        if (inflating != null) {
            pending.incrementAndGet();
            inflating.add(text, piece, messageEnd, parser.compressed());
            return true;
        }
        sendDeferred(true);
        deferred = true;
        deferredText = text;
        deferredPiece = piece;
        deferredEnd = messageEnd;
        return true;
    }

    /** Sends the piece held back to learn whether it was the burst's last; only the last is not batched. */
    private void sendDeferred(boolean batch) {
        if (deferred) {
            deferred = false;
            ByteBuffer piece = deferredPiece;
            deferredPiece = null;
            pending.incrementAndGet();
            toBackend.forward(deferredText, piece, deferredEnd, batch, sent);
        }
    }

    @Override
    public boolean control(byte opcode, ByteBuffer payload) throws ProtocolException {
        if (LOG.isTraceEnabled()) {
            LOG.trace("[{}] client->bridge frame opcode {} length {} fin true", relay.id(), opcode, payload.remaining());
        }
        switch (opcode) {
            case Frames.PING -> {
                burstTraffic = true;
                byte[] copy = new byte[payload.remaining()];
                payload.get(copy);
                if (relay.forwardsPings()) {
                    relay.clientPing(copy);
                } else {
                    answerPing(copy);
                }
                return true;
            }
            case Frames.PONG -> {
                if (relay.forwardsPings()) {
                    byte[] copy = new byte[payload.remaining()];
                    payload.get(copy);
                    relay.clientPong(copy);
                }
                return true;
            }
            case Frames.CLOSE -> {
                burstTraffic = true;
                Frames.Close close = Frames.readClose(payload);
                sendDeferred(false);
                if (inflating != null) {
                    // After the messages still being inflated.
                    inflating.then(() -> clientClosed(close));
                    inflating.iterate();
                } else {
                    clientClosed(close);
                }
                return false;
            }
            default -> {
                return true;
            }
        }
    }

    private void clientClosed(Frames.Close close) {
        boolean closeNow;
        synchronized (outLock) {
            closeReceived = true;
            closeNow = closeFlushed && !connectionClosed;
        }
        relay.clientCloseFrame(close.code(), close.reason());
        if (closeNow) {
            closeConnection();
        }
    }

    // ---- writing ----

    @Override
    public void send(byte opcode, boolean fin, ByteBuffer payload, boolean batch, Callback done) {
        Callback complete = done;
        Throwable failure = null;
        synchronized (outLock) {
            if (closeFrame != null || closeWritten || connectionClosed) {
                // Nothing follows a close frame: dropped.
            } else if (deflating != null) {
                RetainableByteBuffer compressed = deflating.deflate(opcode != Frames.CONTINUATION, fin, payload);
                if (compressed == null) {
                    complete = sendNow(opcode, fin, payload, batch, done);
                } else {
                    // RFC 7692 §6: RSV1 on the first frame of a compressed message only.
                    byte first = opcode == Frames.CONTINUATION ? opcode : (byte) (opcode | Frames.RSV1);
                    complete = sendNow(first, fin, compressed.getByteBuffer(), batch, Deflating.releasing(compressed, done));
                }
            } else {
                complete = sendNow(opcode, fin, payload, batch, done);
            }
            failure = sendFailure;
            sendFailure = null;
        }
        if (failure != null) {
            failed(failure, complete);
        } else if (complete != null) {
            complete.succeeded();
        }
    }

    /**
     * Writes a data frame, or keeps it for {@link #onWritePossible}, under {@code outLock}.
     *
     * @return the callback to complete once the lock is released (on failure too), or null when it is owed later
     */
    private Callback sendNow(byte opcode, boolean fin, ByteBuffer payload, boolean batch, Callback done) {
        if (!writable) {
            stash = new Pending(opcode, fin, payload, batch, done);
            return null;
        }
        try {
            writeFrame(opcode, fin, payload);
            if (!batch && writable) {
                flush();
            }
            if (!writable) {
                waiting = done;
                return null;
            }
        } catch (IOException | RuntimeException e) {
            sendFailure = e;
        }
        return done;
    }

    /** The backend's burst ended: whatever was written since the last flush goes out now. */
    void flushBurst() {
        if (LOG.isTraceEnabled()) {
            LOG.trace("[{}] backend burst ended (dirty {}, writable {})", relay.id(), dirty, writable);
        }
        Throwable failure = null;
        synchronized (outLock) {
            if (!dirty || !writable || connectionClosed) {
                return;
            }
            try {
                flush();
            } catch (IOException | RuntimeException e) {
                failure = e;
            }
        }
        if (failure != null) {
            failed(failure, null);
        }
    }

    @Override
    public void onWritePossible() {
        if (LOG.isTraceEnabled()) {
            LOG.trace("[{}] client writable (stash {}, waiting {}, dirty {})", relay.id(), stash != null, waiting != null, dirty);
        }
        Callback resume = null;
        Callback dropped = null;
        Throwable failure = null;
        boolean closeNow = false;
        synchronized (outLock) {
            if (connectionClosed) {
                return;
            }
            writable = true;
            try {
                // Each step needs the connection still ready; what a "no" leaves undone, the next call does.
                writeRest();
                if (writable && pong != null && closeFrame == null && !closeWritten) {
                    writeControl(Frames.PONG, pong);
                    pong = null;
                }
                if (writable && pingOwed != null && closeFrame == null && !closeWritten) {
                    long asked = System.nanoTime();
                    writeControl(Frames.PING, pingOwed);
                    pingOwed = null;
                    pingWrittenAt = asked;
                }
                if (writable && stash != null) {
                    Pending p = stash;
                    stash = null;
                    if (closeFrame != null || closeWritten) {
                        dropped = p.done();
                    } else {
                        writeFrame(p.opcode(), p.fin(), p.payload());
                        waiting = p.done();
                    }
                }
                if (writable && closeFrame != null) {
                    writeControl(Frames.CLOSE, closeFrame);
                    closeFrame = null;
                    closeWritten = true;
                }
                if (writable && dirty) {
                    flush();
                }
                if (writable) {
                    resume = waiting;
                    waiting = null;
                    if (closeWritten && !closeFlushed) {
                        closeFlushed = true;
                        closeNow = closeReceived || failFast;
                    }
                }
            } catch (IOException | RuntimeException e) {
                failure = e;
                resume = waiting;
                waiting = null;
            }
        }
        if (dropped != null) {
            dropped.succeeded();
        }
        if (failure != null) {
            failed(failure, resume);
            return;
        }
        if (resume != null) {
            resume.succeeded();
        }
        if (closeNow) {
            closeConnection();
        }
    }

    /** Sends a keep-alive ping: {@link #ping(byte[])} with the bridge's own payload. */
    void ping() {
        ping(Frames.KEEP_ALIVE);
    }

    /**
     * Sends a ping, now or, when the connection is not ready, as soon as it is (only the latest waits); its time
     * is {@link #pingWrittenAt()}.
     */
    void ping(byte[] payload) {
        Throwable failure = null;
        synchronized (outLock) {
            if (closeFrame != null || closeWritten || connectionClosed) {
                return;
            }
            try {
                // Timed from before the write: the answer may be read before this thread gets past the flush,
                // and a read stamped earlier than the ping's time would leave the ping looking unanswered.
                long asked = System.nanoTime();
                if (controlNow(Frames.PING, payload)) {
                    pingWrittenAt = asked;
                } else {
                    pingOwed = payload;
                }
            } catch (IOException | RuntimeException e) {
                failure = e;
            }
        }
        if (failure != null) {
            failed(failure, null);
        }
    }

    /** Writes and flushes a control frame if the connection is ready; false when it is not. Under {@code outLock}. */
    private boolean controlNow(byte opcode, byte[] payload) throws IOException {
        if (!writable) {
            return false;
        }
        writeControl(opcode, payload);
        if (writable) {
            flush();
        }
        return true;
    }

    /** Sends a pong, now or, when the connection is not ready, as soon as it is (only the latest waits). */
    void pong(byte[] payload) {
        answerPing(payload);
    }

    private void answerPing(byte[] payload) {
        Throwable failure = null;
        synchronized (outLock) {
            if (closeFrame != null || closeWritten || connectionClosed) {
                return;
            }
            try {
                if (!controlNow(Frames.PONG, payload)) {
                    // RFC 6455 §5.5.3: answering only the latest of several pings is allowed.
                    pong = payload;
                }
            } catch (IOException | RuntimeException e) {
                failure = e;
            }
        }
        if (failure != null) {
            failed(failure, null);
        }
    }

    /** Sends a close frame (1005: an empty one); the connection closes once the client has answered it. */
    @Override
    public void close(int code, String reason) {
        Throwable failure = null;
        boolean closeNow = false;
        synchronized (outLock) {
            if (closeFrame != null || closeWritten || connectionClosed) {
                return;
            }
            byte[] payload = Frames.closePayload(code, reason);
            if (!writable) {
                closeFrame = payload;
                return;
            }
            try {
                writeControl(Frames.CLOSE, payload);
                closeWritten = true;
                if (writable) {
                    flush();
                }
                if (writable) {
                    closeFlushed = true;
                    closeNow = closeReceived || failFast;
                }
            } catch (IOException | RuntimeException e) {
                failure = e;
            }
        }
        if (failure != null) {
            failed(failure, null);
        } else if (closeNow) {
            closeConnection();
        }
    }

    @Override
    public void abort() {
        closeConnection();
        relay.clientGone(null);
    }

    /** Writes a frame while the connection is ready; what a "no" from {@code isReady()} leaves is in {@link #rest}. */
    private void writeFrame(byte opcode, boolean fin, ByteBuffer payload) throws IOException {
        int length = payload.remaining();
        int h = Frames.header(header, opcode, fin, length);
        if (length <= SMALL) {
            payload.get(payload.position(), header, h, length);
            write(header, 0, h + length);
        } else {
            write(header, 0, h);
            rest = payload.slice();
            writeRest();
        }
        lastActivity = System.nanoTime();
    }

    /** Writes what is left of the current frame's payload while the connection is ready. */
    private void writeRest() throws IOException {
        if (writable && copy != null) {
            // The write that read the copy is done.
            copy.release();
            copy = null;
        }
        while (rest != null && writable) {
            if (!rest.hasRemaining()) {
                rest = null;
            } else if (rest.hasArray()) {
                int n = rest.remaining();
                write(rest.array(), rest.arrayOffset() + rest.position(), n);
                rest.position(rest.limit());
            } else {
                if (copy == null) {
                    copy = relay.pool().acquire(Math.min(rest.remaining(), READ_BUFFER), false);
                }
                ByteBuffer scratch = copy.getByteBuffer();
                int n = Math.min(scratch.capacity(), rest.remaining());
                rest.get(scratch.array(), scratch.arrayOffset(), n);
                write(scratch.array(), scratch.arrayOffset(), n);
            }
        }
        if (rest == null && writable && copy != null) {
            copy.release();
            copy = null;
        }
    }

    private void writeControl(byte opcode, byte[] payload) throws IOException {
        int h = Frames.header(header, opcode, true, payload.length);
        System.arraycopy(payload, 0, header, h, payload.length);
        write(header, 0, h + payload.length);
    }

    /** One write, after an {@code isReady()} that said yes; asks again at once. */
    private void write(byte[] bytes, int offset, int length) throws IOException {
        out.write(bytes, offset, length);
        dirty = true;
        writable = out.isReady();
    }

    /** One flush, after an {@code isReady()} that said yes; asks again at once. */
    private void flush() throws IOException {
        out.flush();
        dirty = false;
        writable = out.isReady();
    }

    private void failed(Throwable failure, Callback done) {
        if (done != null) {
            done.failed(failure);
        }
        closeConnection();
        relay.clientWriteFailed(failure);
        relay.clientGone(failure);
    }

    /**
     * Closes the connection. The Servlet API leaves the socket to the container's next event on it, which
     * for a client that waits for us to close might never come: {@link #afterClose} makes one.
     */
    private void closeConnection() {
        Pending p;
        Callback w;
        RetainableByteBuffer c;
        synchronized (outLock) {
            if (connectionClosed || connection == null) {
                connectionClosed = true;
                return;
            }
            connectionClosed = true;
            p = stash;
            stash = null;
            w = waiting;
            waiting = null;
            rest = null;
            c = copy;
            copy = null;
            if (deflating != null) {
                deflating.release();
            }
        }
        if (inflating != null) {
            inflating.end();
        }
        if (p != null) {
            p.done().succeeded();
        }
        if (w != null) {
            w.succeeded();
        }
        try {
            connection.close();
        } catch (Exception e) {
            // Already closed: nothing left to release.
        }
        if (c != null) {
            c.release();
        }
        afterClose.accept(out);
    }

    @Override
    public String toString() {
        return "ClientLeg[" + (relay == null ? "-" : relay.id()) + (opened ? " open" : "") + (connectionClosed ? " closed" : "")
                + "]";
    }
}
