-- A subscription made by an agency (outside the insurer) posts only to public addresses: the
-- worker checks what its URL's name resolves to at each send, not only the name at creation.
ALTER TABLE webhook_subscriptions ADD COLUMN public_only boolean NOT NULL DEFAULT false;
