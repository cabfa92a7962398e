package dev.wsbridge.observability;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Who may read the admin pages: a list of addresses and CIDR ranges ({@code 10.0.0.0/8}, {@code ::1}), or
 * {@code *} for anyone. Parsed once, strictly: a bad entry stops deployment naming the init-param.
 */
final class AdminAccess {

    /** The default: the loopback addresses only. */
    static final String LOOPBACK = "127.0.0.0/8, ::1";

    private record Range(byte[] network, int bits) {
        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            BigInteger mask = BigInteger.ONE.shiftLeft(address.length * 8).subtract(BigInteger.ONE)
                    .shiftRight(bits).not();
            return new BigInteger(1, address).and(mask).equals(new BigInteger(1, network).and(mask));
        }
    }

    private final boolean anyone;
    private final List<Range> ranges;

    private AdminAccess(boolean anyone, List<Range> ranges) {
        this.anyone = anyone;
        this.ranges = ranges;
    }

    /** Parses {@code value} of the init-param {@code name}. */
    static AdminAccess parse(String name, String value) {
        List<Range> ranges = new ArrayList<>();
        boolean anyone = false;
        for (String entry : value.split(",")) {
            String e = entry.trim();
            if (e.isEmpty()) {
                continue;
            }
            if ("*".equals(e)) {
                anyone = true;
                continue;
            }
            int slash = e.indexOf('/');
            String host = slash < 0 ? e : e.substring(0, slash);
            byte[] address = literal(name, value, host);
            int bits = address.length * 8;
            if (slash >= 0) {
                try {
                    bits = Integer.parseInt(e.substring(slash + 1));
                } catch (NumberFormatException x) {
                    bits = -1;
                }
                if (bits < 0 || bits > address.length * 8) {
                    throw bad(name, value, "[" + e + "] has a prefix length out of range");
                }
            }
            ranges.add(new Range(address, bits));
        }
        if (!anyone && ranges.isEmpty()) {
            throw bad(name, value, "no address given");
        }
        return new AdminAccess(anyone, List.copyOf(ranges));
    }

    /** Only IP literals: a host name would be resolved at every check, or go stale. */
    private static byte[] literal(String name, String value, String host) {
        boolean literal = host.matches("[0-9.]+") || host.contains(":");
        if (literal) {
            try {
                return InetAddress.getByName(host).getAddress();
            } catch (UnknownHostException e) {
                // Reported below.
            }
        }
        throw bad(name, value, "[" + host + "] is not an IP address");
    }

    private static IllegalArgumentException bad(String name, String value, String why) {
        return new IllegalArgumentException("init-param [" + name + "] has value [" + value + "]; " + why
                + "; expected IP addresses or CIDR ranges such as 127.0.0.1, 10.0.0.0/8 or ::1, or *");
    }

    /** Whether {@code remoteAddr} (as the container reports it) may read the pages. */
    boolean allows(String remoteAddr) {
        if (anyone) {
            return true;
        }
        byte[] address;
        try {
            address = InetAddress.getByName(remoteAddr).getAddress();
        } catch (UnknownHostException e) {
            return false;
        }
        for (Range r : ranges) {
            if (r.contains(address)) {
                return true;
            }
        }
        return false;
    }
}
