package io.mailstream.schemas.codec;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailstream.schemas.Annotation;
import io.mailstream.schemas.ChangeEvent;
import io.mailstream.schemas.MailboxUpsert;
import io.mailstream.schemas.MessageContent;
import io.mailstream.schemas.SieveUpsert;
import io.mailstream.schemas.content.MessageChunker;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChangeEventJsonTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void rendersEnvelopeTypeAndPayloadOnOneLine() throws Exception {
        String line =
                ChangeEventJson.render(Samples.changeEvent(Samples.payloads().get(3))); // MailboxDelete

        assertThat(line).doesNotContain("\n");
        JsonNode json = JSON.readTree(line);
        assertThat(json.get("type").asText()).isEqualTo("MailboxDelete");
        assertThat(json.get("envelope").get("eventId").asText()).isEqualTo("e-1");
        assertThat(json.get("envelope").get("epoch").asLong()).isEqualTo(3);
        assertThat(json.get("envelope").get("mailboxUniqueId").asText()).isEqualTo("u-123"); // union: value only
        assertThat(json.get("payload").get("name").asText()).isEqualTo("user.alice.Work");
    }

    @Test
    void messageAndSieveBytesShowAsLengthAndSha1Only() throws Exception {
        byte[] body = "Subject: secret\r\n\r\nthe body".getBytes(StandardCharsets.US_ASCII);
        String guid = MessageChunker.sha1Hex(body);
        MessageContent content = MessageContent.newBuilder()
                .setGuid(guid)
                .setSize(body.length)
                .setData(ByteBuffer.wrap(body))
                .build();
        SieveUpsert sieve = SieveUpsert.newBuilder()
                .setUserId("alice")
                .setFilename("main.script")
                .setLastUpdate(1)
                .setContent(ByteBuffer.wrap("secret script".getBytes(StandardCharsets.UTF_8)))
                .build();

        String contentLine = ChangeEventJson.render(Samples.changeEvent(content));
        String sieveLine = ChangeEventJson.render(Samples.changeEvent(sieve));

        assertThat(contentLine + sieveLine).doesNotContain("secret");
        JsonNode data = JSON.readTree(contentLine).get("payload").get("data");
        assertThat(data.get("bytes").asInt()).isEqualTo(body.length);
        assertThat(data.get("sha1").asText()).isEqualTo(guid);
        assertThat(JSON.readTree(sieveLine)
                        .get("payload")
                        .get("content")
                        .get("bytes")
                        .asInt())
                .isEqualTo(13);
        assertThat(content.getData().remaining()).isEqualTo(body.length); // rendering left the buffer alone
    }

    @Test
    void annotationValuesAreTextWhenUtf8ElseBase64() throws Exception {
        byte[] binary = {(byte) 0xff, (byte) 0xfe, 0x00, 0x41};
        MailboxUpsert upsert = Samples.mailboxUpsert();
        upsert.setAnnotations(List.of(
                Samples.annotation("/comment", "grüß \"dich\"\nline 2"),
                Annotation.newBuilder()
                        .setEntry("/vendor/blob")
                        .setUserId("alice")
                        .setValue(ByteBuffer.wrap(binary))
                        .build()));

        JsonNode annotations = JSON.readTree(ChangeEventJson.render(Samples.changeEvent(upsert)))
                .get("payload")
                .get("annotations");

        assertThat(annotations.get(0).get("value").asText()).isEqualTo("grüß \"dich\"\nline 2");
        assertThat(annotations.get(1).get("value").get("base64").asText())
                .isEqualTo(Base64.getEncoder().encodeToString(binary));
    }

    @Test
    void everyPayloadTypeRendersAsValidJson() throws Exception {
        for (Object payload : Samples.payloads()) {
            ChangeEvent event = Samples.changeEvent(payload);
            JsonNode json = JSON.readTree(ChangeEventJson.render(event));
            assertThat(json.get("type").asText()).isEqualTo(payload.getClass().getSimpleName());
            assertThat(json.get("payload").size())
                    .isEqualTo(((org.apache.avro.generic.IndexedRecord) payload)
                            .getSchema()
                            .getFields()
                            .size());
        }
    }
}
