"""Kafka subscriptions of the notifications service: event contract → handler, listed explicitly."""

from common.messaging.consumer import Subscription

SUBSCRIPTIONS: list[Subscription] = []
