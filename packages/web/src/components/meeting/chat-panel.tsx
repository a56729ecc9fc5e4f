/**
 * The meeting's chat. Each message carries its sender's verified name as the server recorded
 * it (never a name the sender typed), with the GUEST mark for external guests. New messages
 * are announced politely; Enter sends. In an end-to-end encrypted meeting a message shows
 * once opened in this browser; one sealed before this participant joined says so.
 */
import { CHAT_MAX_CHARS, type ChatMessage } from '@rempart/core';
import type { OpenedChat } from '../../meeting/e2ee/chat';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useI18n } from '../../i18n';
import { GuestMark } from './identity-badge';

export function ChatPanel({
  id,
  chat,
  opened,
  sealing,
  selfId,
  onSend,
}: {
  id: string;
  chat: readonly ChatMessage[];
  /** What this browser made of each sealed message, by id (absent: still opening). */
  opened: ReadonlyMap<string, OpenedChat>;
  /** End-to-end encrypted: a message that cannot go yet is waiting for keys, not for the network. */
  sealing: boolean;
  selfId: string | undefined;
  /** False when the message could not go (the connection is down): the text is kept. */
  onSend: (text: string) => boolean;
}) {
  const { t, formatTime } = useI18n();
  const [text, setText] = useState('');
  const [notSent, setNotSent] = useState(false);
  const list = useRef<HTMLOListElement>(null);
  const count = chat.length;

  // The newest message in view, as in any chat.
  useEffect(() => {
    const element = list.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [count]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const message = text.trim();
    if (message === '') return;
    if (onSend(message)) {
      setText('');
      setNotSent(false);
    } else {
      setNotSent(true);
    }
  };

  return (
    <section id={id} className="panel panel-chat" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>{t('room.chat')}</h2>
      {chat.length === 0 ? <p className="muted">{t('room.chatEmpty')}</p> : null}
      <ol ref={list} className="chat-list" aria-live="polite" aria-relevant="additions" tabIndex={0}>
        {chat.map((message) => (
          <li
            key={message.id}
            className={message.from.participantId === selfId ? 'chat-message chat-mine' : 'chat-message'}
            data-testid="chat-message"
          >
            <span className="chat-meta">
              {message.from.guest ? <GuestMark /> : null}
              <span className="chat-from">{message.from.displayName}</span>{' '}
              <time dateTime={message.at}>{formatTime(message.at)}</time>
            </span>
            <ChatText message={message} opened={opened.get(message.id)} />
          </li>
        ))}
      </ol>
      <form className="chat-form" onSubmit={submit}>
        <label htmlFor={`${id}-input`} className="visually-hidden">
          {t('room.chatInput')}
        </label>
        <input
          id={`${id}-input`}
          data-testid="chat-input"
          type="text"
          autoComplete="off"
          maxLength={CHAT_MAX_CHARS}
          placeholder={t('room.chatPlaceholder')}
          value={text}
          aria-describedby={notSent ? `${id}-problem` : undefined}
          onChange={(event) => setText(event.target.value)}
        />
        <button type="submit" className="button button-small button-primary" disabled={text.trim() === ''}>
          {t('room.send')}
        </button>
      </form>
      {notSent ? (
        <p id={`${id}-problem`} className="field-problem" role="alert">
          {t(sealing ? 'room.e2ee.noKeys' : 'room.chatNotSent')}
        </p>
      ) : null}
    </section>
  );
}

function ChatText({ message, opened }: { message: ChatMessage; opened: OpenedChat | undefined }) {
  const { t } = useI18n();
  if ('text' in message) return <span className="chat-text">{message.text}</span>;
  if (opened?.kind === 'text') return <span className="chat-text">{opened.text}</span>;
  const label =
    opened === undefined
      ? t('room.chatOpening')
      : opened.kind === 'before-join'
        ? t('room.chatBeforeJoin')
        : t('room.chatSealed');
  return (
    <span className="chat-text chat-sealed" data-sealed={opened?.kind ?? 'opening'}>
      {label}
    </span>
  );
}
