#!/bin/sh
# Creates the SNS side of the comparison: the topic the records are published to, its dead-letter topic,
# and optional subscriptions. LocalStack runs it when it is ready (mounted into
# /etc/localstack/init/ready.d); the tests run the very same file against the local SNS emulator.
# Needs only sh and curl: it speaks the SNS query API, which LocalStack and the emulator both answer.
#
#   SNS_ENDPOINT          where SNS answers (default http://localhost:4566, LocalStack's edge port)
#   SNS_TOPIC             topic of the records (default nginx-logs)
#   SNS_DLQ_TOPIC         dead-letter topic (default nginx-logs-dlq)
#   SNS_HTTP_SUBSCRIBERS  space-separated http(s) endpoints to subscribe to SNS_TOPIC (default none)
#   SNS_ARCHIVE_QUEUE     an SQS queue to create and subscribe to SNS_TOPIC (default none; LocalStack only)
#   AWS_REGION, AWS_ACCOUNT_ID  for the ARNs (default us-east-1, 000000000000)
set -eu

endpoint="${SNS_ENDPOINT:-http://localhost:4566}"
topic="${SNS_TOPIC:-nginx-logs}"
dlq_topic="${SNS_DLQ_TOPIC:-nginx-logs-dlq}"
region="${AWS_REGION:-us-east-1}"
account="${AWS_ACCOUNT_ID:-000000000000}"

call() {
  # The query API, unsigned; the Authorization header only names the region for LocalStack.
  if ! out=$(curl -fsS -X POST "$endpoint/" \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/$region/sns/aws4_request" \
    "$@" 2>&1); then
    echo "sns-init: request to $endpoint failed: $out" >&2
    echo "sns-init: is SNS running there? Set SNS_ENDPOINT to where it answers." >&2
    exit 1
  fi
  printf '%s' "$out"
}

topic_arn() { printf 'arn:aws:sns:%s:%s:%s' "$region" "$account" "$1"; }

for name in "$topic" "$dlq_topic"; do
  call --data-urlencode "Action=CreateTopic" --data-urlencode "Name=$name" >/dev/null
  echo "sns-init: topic $(topic_arn "$name")"
done

for url in ${SNS_HTTP_SUBSCRIBERS:-}; do
  case "$url" in
    http://* | https://*) protocol="${url%%:*}" ;;
    *) echo "sns-init: subscriber \"$url\" is not an http(s) URL" >&2; exit 1 ;;
  esac
  call --data-urlencode "Action=Subscribe" --data-urlencode "TopicArn=$(topic_arn "$topic")" \
    --data-urlencode "Protocol=$protocol" --data-urlencode "Endpoint=$url" >/dev/null
  echo "sns-init: $url subscribed to $topic"
done

if [ -n "${SNS_ARCHIVE_QUEUE:-}" ]; then
  curl -fsS -X POST "$endpoint/" -H "Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/$region/sqs/aws4_request" \
    --data-urlencode "Action=CreateQueue" --data-urlencode "QueueName=$SNS_ARCHIVE_QUEUE" >/dev/null
  call --data-urlencode "Action=Subscribe" --data-urlencode "TopicArn=$(topic_arn "$topic")" \
    --data-urlencode "Protocol=sqs" \
    --data-urlencode "Endpoint=arn:aws:sqs:$region:$account:$SNS_ARCHIVE_QUEUE" >/dev/null
  echo "sns-init: SQS queue $SNS_ARCHIVE_QUEUE subscribed to $topic"
fi
