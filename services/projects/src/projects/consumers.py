"""Kafka subscriptions of the projects service: event contract → handler, listed explicitly."""

from common.messaging.consumer import Subscription

SUBSCRIPTIONS: list[Subscription] = []
