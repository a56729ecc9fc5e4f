import { LEAKCHECK_MAX_BYTES } from '@rempart/core';
import { useId, useRef, useState, type DragEvent } from 'react';
import { useI18n } from '../../i18n';
import { acceptedFiles, formatSize } from '../../leakcheck/image';

const carriesFiles = (event: DragEvent): boolean => event.dataTransfer.types.includes('Files');

/**
 * Where an image is handed over: dropped on the zone, or chosen with its button (the keyboard
 * way, and the only one on a touch screen). One image at a time: of several dropped, the first.
 */
export function DropZone({
  busy,
  again,
  onImage,
}: {
  /** An image is being read: nothing else is taken until it is done. */
  busy: boolean;
  /** An image was already checked: the button offers to check another. */
  again: boolean;
  onImage: (file: File) => void;
}) {
  const { t, language } = useI18n();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const hintId = useId();

  const take = (files: FileList | null) => {
    const file = files?.[0];
    if (file && !busy) onImage(file);
  };

  return (
    <div
      className={`drop-zone${over ? ' drop-zone-over' : ''}${again ? ' drop-zone-again' : ''}`}
      data-testid="drop-zone"
      onDragEnter={(event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        setOver(!busy);
      }}
      onDragOver={(event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = busy ? 'none' : 'copy';
      }}
      onDragLeave={(event) => {
        const next = event.relatedTarget;
        if (next instanceof Node && event.currentTarget.contains(next)) return;
        setOver(false);
      }}
      onDrop={(event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        setOver(false);
        take(event.dataTransfer.files);
      }}
    >
      <p className="drop-zone-title" aria-hidden="true">
        {t(over ? 'leakcheck.dropNow' : 'leakcheck.drop')}
      </p>
      <button
        type="button"
        className={again ? 'button' : 'button button-primary'}
        disabled={busy}
        aria-describedby={hintId}
        onClick={() => input.current?.click()}
      >
        {t(again ? 'leakcheck.chooseAnother' : 'leakcheck.choose')}
      </button>
      <input
        ref={input}
        type="file"
        accept={acceptedFiles}
        hidden
        data-testid="leakcheck-file"
        onChange={(event) => {
          take(event.target.files);
          // Choosing the same file again is a new check, so the input must not keep it.
          event.target.value = '';
        }}
      />
      <p id={hintId} className="field-hint">
        {t('leakcheck.dropHint', { max: formatSize(LEAKCHECK_MAX_BYTES, language) })}
      </p>
    </div>
  );
}
