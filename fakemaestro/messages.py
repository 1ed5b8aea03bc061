"""Every message production sends, defined once and shared by code and tests.

Texts are production's, byte for byte (CONTRACT.md sections in comments).
"""

# §2.2 authentication
MISSING_API_KEY = "Missing API key. Provide it via X-API-Key header or Authorization: Bearer header."
INVALID_KEY_FORMAT = "Invalid API key format."
KEY_NOT_FOUND = "API key not found."
KEY_REVOKED = "This API key has been revoked. Please generate a new key."
KEY_EXPIRED = "This API key has expired. Please generate a new key."
KEY_INACTIVE = "This API key is inactive."

# §4 scopes
NO_SCOPES = "No authorization scopes available. Ensure you are authenticated."
MISSING_SCOPES = "Missing required scopes: {missing}"

# §3 rate limiting
MINUTE_LIMIT = "Rate limit exceeded. Please retry after {seconds} seconds."
DAY_LIMIT = "Daily rate limit exceeded. Limit resets at midnight UTC."

# §1.5 not found
NOT_FOUND = "{resource} with id '{id}' not found"

# §5.1 workflows
WORKFLOW_NO_DEFINITION = "Workflow has no definition"
WORKFLOW_VALIDATION_FAILED = "Workflow validation failed: {errors}"
WORKFLOW_BAD_FORMAT = "Invalid workflow definition format"
WORKFLOW_EXECUTION_FAILED = "Workflow execution failed"

# §5.2 executions
CANNOT_CANCEL = "Execution cannot be cancelled. Current status: {status}"
CANCELLED = "Execution cancelled successfully"
CANCEL_FAILED = "Failed to cancel execution"

# §5.3 agent memory
WORKING_MEMORY_REQUIRED = "working_memory is required and must be a non-empty string"
MEMORY_QUERY_REQUIRED = "query is required and must be a non-empty string"
MEMORY_SEARCH_FAILED = "Memory search failed"

# §5.4 threads
CONTENT_REQUIRED = "Message content is required"
AGENT_NOT_FOUND_FOR_THREAD = "Agent not found for thread"
STREAMING_NOT_IMPLEMENTED = "Streaming messages not yet implemented in public API. Use stream=false."
AGENT_EXECUTION_FAILED = "Agent execution failed"
AGENT_TIMEOUT = (
    "Execution did not complete within {timeout}ms. "
    "Use GET /api/v1/threads/{thread_id}/messages to check for new messages."
)
DELETE_THREAD_FAILED = "Failed to delete thread"
SEND_MESSAGE_FAILED = "Failed to send message"

# §5.5 triggers
TRIGGER_NOT_ENABLED = "Trigger is not enabled"
TRIGGER_BAD_DEFINITION = "Invalid workflow definition"
TRIGGER_EXECUTION_FAILED = "Trigger execution failed"

# §5.6 knowledge bases
QUERY_REQUIRED = "Query is required"
KB_QUERY_FAILED = "Knowledge base query failed"

# §5.7 webhooks
NAME_REQUIRED = "Name is required"
URL_REQUIRED = "URL is required"
INVALID_URL = "Invalid URL format"
EVENTS_REQUIRED = "At least one event type is required"
INVALID_EVENTS_CREATE = "Invalid event types: {invalid}. Valid types: {valid}"
INVALID_EVENTS_PATCH = "Invalid event types: {invalid}"
CREATE_WEBHOOK_FAILED = "Failed to create webhook"

# §8.3 webhook test
TEST_WEBHOOK_TEXT = "This is a test webhook from FlowMaestro"
TEST_DELIVERED = "Test webhook delivered successfully"
TEST_FAILED_STATUS = "Test webhook failed with status {status}"
TEST_NOT_DELIVERED = "Failed to deliver test webhook"
FETCH_FAILED = "fetch failed"
FETCH_TIMEOUT = "The operation was aborted due to timeout"

# §1.1 / §1.7 framework-shaped errors
ROUTE_NOT_FOUND = "Route {method}:{url} not found"
BAD_URL = "'{path}' is not a valid url component"
UNSUPPORTED_MEDIA_TYPE = "Unsupported Media Type: {content_type}"
BODY_TOO_LARGE = "Request body is too large"
INVALID_UUID = 'invalid input syntax for type uuid: "{value}"'
INVALID_PREFLIGHT = "Invalid Preflight Request"

# Intended behaviours (quirks switched off): not production text, ours
TOP_K_INVALID = "top_k must be a positive integer"
INPUTS_NOT_AN_OBJECT = "inputs must be a JSON object, not a string"
