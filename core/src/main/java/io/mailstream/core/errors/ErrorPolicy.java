package io.mailstream.core.errors;

import io.mailstream.core.config.ConfigException;
import io.mailstream.core.kafka.KafkaUnavailableException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidPidMappingException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one place that decides what an error means, for every role (as Debezium's ErrorHandler):
 * <ul>
 *   <li>{@link Action#RETRY}: the cause is outside us and passes (broker down, replica restarting,
 *       network): keep the data where it is (Cyrus's sync log, the consumer offset) and try again.</li>
 *   <li>{@link Action#DEAD_LETTER}: this one event is wrong (undecodable, invalid, fenced): park it
 *       in the DLQ with the reason and go on, so a poison pill never stops the pipeline.</li>
 *   <li>{@link Action#STOP}: continuing would be wrong (fenced by a newer instance of ourselves,
 *       bad credentials, bad configuration): stop this role and say why.</li>
 * </ul>
 * Each distinct reason is logged once at WARN/ERROR; repeats go to DEBUG so a long outage does
 * not flood the log.
 */
public final class ErrorPolicy {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorPolicy.class);
    private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();

    public enum Action { RETRY, DEAD_LETTER, STOP }

    private ErrorPolicy() {}

    public static Action classify(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            // Kafka 4's transactions (KIP-890) report a newer instance with our transactional id
            // as InvalidProducerEpochException on send/commit, not only ProducerFencedException.
            if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException
                    || t instanceof InvalidPidMappingException
                    || t instanceof OutOfOrderSequenceException
                    || t instanceof AuthenticationException || t instanceof AuthorizationException
                    || t instanceof UnsupportedVersionException || t instanceof ConfigException
                    || t instanceof FencedException) {
                return Action.STOP;
            }
            if (t instanceof InvalidEventException || t instanceof SerializationException) {
                return Action.DEAD_LETTER;
            }
            if (t instanceof RetriableException || t instanceof KafkaUnavailableException
                    || t instanceof org.apache.kafka.common.errors.TimeoutException
                    || t instanceof java.util.concurrent.TimeoutException
                    || t instanceof IOException) {
                return Action.RETRY;
            }
        }
        // Unknown errors: retrying keeps the data safe upstream; an operator sees the log line.
        return Action.RETRY;
    }

    /** Classifies and logs the error once per distinct (role, action, message). */
    public static Action handle(String role, Throwable error) {
        Action action = classify(error);
        String reason = error.getClass().getSimpleName() + ": " + error.getMessage();
        if (LOGGED.add(role + "|" + action + "|" + reason)) {
            if (action == Action.STOP) {
                LOG.error("{}: stopping: {}", role, reason, error);
            } else {
                LOG.warn("{}: {} after {}", role, action == Action.RETRY ? "will retry" : "dead-lettered", reason);
            }
        } else {
            LOG.debug("{}: {} again after {}", role, action, reason);
        }
        return action;
    }
}
