-- speed up the export's filter on status
CREATE INDEX orders_status_idx ON orders (status);
ALTER TABLE orders ADD COLUMN exported_at timestamptz;
