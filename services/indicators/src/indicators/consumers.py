"""Kafka subscriptions of the indicators service: event contract → handler, listed explicitly."""

from common.messaging.consumer import Subscription

SUBSCRIPTIONS: list[Subscription] = []
