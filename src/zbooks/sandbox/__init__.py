"""A stateful local emulator of Zoho Accounts and the Zoho Books v3 API.

The sandbox imports nothing from the SDK's pipeline, resources or models: it is built
from the published facts about Zoho, so that a misunderstanding on the SDK side is
caught by tests instead of being mirrored here.
"""
