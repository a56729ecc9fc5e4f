/**
 * Outgoing mail, for the few messages Rempart sends itself (a guest's one-time code).
 * One SMTP relay, configured by REMPART_SMTP_URL; nothing is sent when none is set.
 */
import type { Transporter } from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** The SMTP client is loaded at the first message: most processes never send one. */
export class SmtpMailer implements Mailer {
  private transport: Promise<Transporter> | undefined;
  private closed = false;

  constructor(
    private readonly smtpUrl: string,
    private readonly from: string,
  ) {}

  async send(message: MailMessage): Promise<void> {
    if (this.closed) throw new Error('the mailer is closed');
    // smtp:// upgrades with STARTTLS when offered; smtps:// is TLS from the first byte.
    this.transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport(this.smtpUrl),
    );
    await (await this.transport).sendMail({ from: this.from, ...message });
  }

  close(): void {
    this.closed = true;
    void this.transport?.then((t) => t.close());
  }
}
