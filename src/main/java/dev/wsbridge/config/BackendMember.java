package dev.wsbridge.config;

/**
 * One backend of a route's {@code proxyTo} list.
 *
 * @param target the backend's base URI
 * @param weight its share relative to the others, 1 or more
 */
public record BackendMember(BackendTarget target, int weight) {

    public BackendMember {
        if (weight < 1) {
            throw new IllegalArgumentException("weight " + weight);
        }
    }

    @Override
    public String toString() {
        return weight == 1 ? target.toString() : target + " weight=" + weight;
    }
}
