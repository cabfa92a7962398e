package dev.wsbridge.bench;

import dev.wsbridge.support.BridgeContainer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.management.Attribute;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The server JVM of the benchmark, started by {@link Bench} with {@code -Xmx512m}. Role {@code backend}: the
 * {@link BenchBackend}. Role {@code tomcat} or {@code jetty} plus a {@code proxyTo} URI and, optionally, more
 * init-params as {@code name=value,name=value}: the bridge servlet in that embedded container, on TLS. Role
 * {@code tomcat-echo} or {@code jetty-echo}: that container with {@link ContainerEcho} alone, on TLS.
 *
 * <p>Its standard output is a command channel and nothing else (logs go to standard error): it first prints
 * {@code ready <port>}, then answers each line read from standard input: {@code heap} with
 * {@code heap <bytes>}, the heap in use after a full GC; {@code quit} with {@code bye}, after stopping the
 * server. The end of standard input (the generator died) also stops it.
 */
public final class BenchServer {

    private BenchServer() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream channel = System.out;
        System.setOut(System.err);
        AutoCloseable server;
        int port;
        String role = args.length > 0 ? args[0] : "";
        switch (role) {
            case "backend" -> {
                BenchBackend backend = new BenchBackend();
                server = backend;
                port = backend.port();
            }
            case "tomcat", "jetty" -> {
                BridgeContainer container = BridgeContainer.Kind.valueOf(role.toUpperCase(Locale.ROOT)).create();
                Map<String, String> params = new HashMap<>();
                if (args.length > 2) {
                    for (String pair : args[2].split(",")) {
                        if (!pair.isBlank()) {
                            params.put(pair.substring(0, pair.indexOf('=')).trim(), pair.substring(pair.indexOf('=') + 1).trim());
                        }
                    }
                }
                params.put("proxyTo", args[1]);
                container.start(params, Map.of());
                if (!container.deployed()) {
                    throw new IllegalStateException("the bridge did not deploy in [" + role + "]; see the log");
                }
                if (role.equals("tomcat")) {
                    liftTomcatConnectionLimit();
                }
                server = container;
                port = container.tlsPort();
            }
            case "tomcat-echo", "jetty-echo" -> {
                BridgeContainer container = BridgeContainer.Kind.valueOf(
                        role.substring(0, role.indexOf('-')).toUpperCase(Locale.ROOT)).create();
                container.startEndpoints(ContainerEcho.DEPLOY);
                if (role.equals("tomcat-echo")) {
                    liftTomcatConnectionLimit();
                }
                server = container;
                port = container.tlsPort();
            }
            default -> throw new IllegalArgumentException("role [" + role
                    + "]; expected backend, tomcat, jetty, tomcat-echo or jetty-echo");
        }
        channel.println("ready " + port);
        channel.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.equals("heap")) {
                channel.println("heap " + heapAfterGc());
            } else if (line.equals("histogram")) {
                channel.println("histogram " + histogram());
            } else if (line.equals("quit")) {
                break;
            } else {
                channel.println("error unknown command [" + line + "]");
            }
            channel.flush();
        }
        server.close();
        channel.println("bye");
        channel.flush();
        System.exit(0);
    }

    /** The JVM's class histogram of live objects (after a full GC), its rows joined by {@code ;} on one line. */
    private static String histogram() throws Exception {
        Object text = ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        return String.join(";", text.toString().split("\n"));
    }

    private static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /**
     * Tomcat's NIO connector accepts at most 8192 connections by default ({@code maxConnections}); a bridged
     * session holds one, so 9,000 idle sessions need more. An admin sets it on the {@code <Connector>}; here it
     * is set through Tomcat's own JMX MBean for each connector's endpoint.
     */
    private static void liftTomcatConnectionLimit() throws Exception {
        MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
        Set<ObjectName> endpoints = mbeans.queryNames(new ObjectName("Tomcat:type=ThreadPool,*"), null);
        if (endpoints.isEmpty()) {
            System.err.println("bench: no Tomcat endpoint MBean; Tomcat's maxConnections stays 8192");
        }
        for (ObjectName endpoint : endpoints) {
            mbeans.setAttribute(endpoint, new Attribute("maxConnections", -1));
        }
    }
}
