package io.mailstream.core.kafka;

/** The Kafka cluster could not be reached or did not answer in time. Retriable by policy. */
public class KafkaUnavailableException extends RuntimeException {
    public KafkaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
