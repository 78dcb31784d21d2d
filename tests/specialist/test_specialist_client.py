"""make_client: a client per provider when configured, None (static-only) without credentials."""

from __future__ import annotations

import anthropic

from bot.specialist.client import make_client
from tests.support.fakemodel import FakeModel, Reply, text


def test_no_credentials_means_no_client() -> None:
    assert make_client(api_key=None) is None
    assert make_client(api_key="", base_url="https://gateway.example") is None
    assert make_client(provider="bedrock", api_key="k") is None  # no region
    assert make_client(provider="vertex", vertex_region="us-east5") is None  # no project


def test_a_direct_client_uses_the_key_base_url_and_retries() -> None:
    client = make_client(api_key="sk-x", base_url="https://gateway.example/anthropic", max_retries=5)
    assert isinstance(client, anthropic.Anthropic)
    assert str(client.base_url).startswith("https://gateway.example/anthropic")
    assert client.max_retries == 5


def test_a_gateway_client_talks_to_the_configured_base_url() -> None:
    fake = FakeModel([Reply([text("pong")])])
    client = make_client(api_key="sk-x", base_url="https://anthropic.fake", http_client=fake.http_client())
    assert client is not None
    messages = [{"role": "user", "content": "p"}]
    reply = client.messages.create(model="claude-sonnet-4-6", max_tokens=10, messages=messages)
    assert reply.content[0].text == "pong" and fake.calls == 1


def test_bedrock_and_vertex_clients_are_built_when_configured() -> None:
    bedrock = make_client(provider="bedrock", api_key="bedrock-key", aws_region="us-east-1")
    assert isinstance(bedrock, anthropic.AnthropicBedrock)
    vertex = make_client(provider="vertex", vertex_project="p", vertex_region="us-east5")
    assert isinstance(vertex, anthropic.AnthropicVertex)
