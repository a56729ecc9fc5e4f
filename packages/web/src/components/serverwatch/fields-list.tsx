import { fieldRows } from '../../serverwatch/format';

/** An event's normalised fields, by their Sigma names. */
export function FieldsList({ fields }: { fields: Readonly<Record<string, unknown>> }) {
  const rows = fieldRows(fields);
  if (rows.length === 0) return null;
  return (
    <dl className="details watch-fields">
      {rows.map((row) => (
        <div key={row.name}>
          <dt>
            <code>{row.name}</code>
          </dt>
          <dd>
            <code>{row.value}</code>
          </dd>
        </div>
      ))}
    </dl>
  );
}
