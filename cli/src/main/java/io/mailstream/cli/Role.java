package io.mailstream.cli;

/**
 * A long-running part of mailstream (capture, streams, one sink) that {@code mailstream run}
 * starts together with the others and that its own subcommand starts alone. Created from the
 * configuration before anything starts, so a bad configuration stops the command early; started
 * once Kafka is reachable and the topics exist.
 */
public interface Role extends AutoCloseable {
    /** Shown to the operator, e.g. {@code capture} or {@code sink dc2}. */
    String name();

    /**
     * Starts the role's threads and returns. A failure after this returns is reported with
     * {@link RoleContext#fail}, which stops the whole process.
     */
    void start(RoleContext context) throws Exception;

    /** Stops and waits for the role's threads; called once, in reverse start order. */
    @Override
    void close() throws Exception;

    /** Starts a role's service and returns what stops it. */
    @FunctionalInterface
    interface Starter {
        AutoCloseable start(RoleContext context) throws Exception;
    }

    /**
     * A role from a service that starts with one call and stops on close, e.g.
     * {@code Role.of("sink " + tier, ctx -> Sinks.start(ctx.config(), ctx.bootstrapServers(), tier, ctx.metrics()))}.
     */
    static Role of(String name, Starter starter) {
        return new Role() {
            private AutoCloseable running;

            @Override
            public String name() {
                return name;
            }

            @Override
            public void start(RoleContext context) throws Exception {
                running = starter.start(context);
            }

            @Override
            public void close() throws Exception {
                if (running != null) running.close();
            }
        };
    }
}
