package io.mailstream.core.errors;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ErrorPolicyTest {
    @Test
    void theLogRemembersABoundedNumberOfReasons() {
        // A long outage with ever-changing details (offsets, addresses) must not grow the heap.
        for (int i = 0; i < 100_000; i++) {
            ErrorPolicy.handle("test", new IllegalStateException("distinct reason " + i));
        }
        assertThat(ErrorPolicy.rememberedReasons()).isLessThanOrEqualTo(ErrorPolicy.REMEMBERED_REASONS);
    }
}
