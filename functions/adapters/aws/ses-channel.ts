import {
  AlreadyExistsException,
  CreateTemplateCommand,
  SendTemplatedEmailCommand,
  UpdateTemplateCommand,
  VerifyEmailIdentityCommand,
  type SESClient,
} from '@aws-sdk/client-ses';
import { ALERT_EMAIL_TEMPLATE, emailTemplateData } from '../../domain/alerting/message';
import type { AlertMessage } from '../../domain/alerting/model';
import type { NotificationChannel } from '../../ports/notifications';

export interface SesChannelOptions {
  readonly templateName: string;
  /** A verified SES identity. */
  readonly from: string;
  readonly to: readonly string[];
}

/**
 * The critical alert e-mail, from the stored template. SES v1's SendTemplatedEmail rather than
 * v2's SendEmail with a template: the emulator we test against (moto) implements only the former.
 */
export class SesChannel implements NotificationChannel {
  readonly channel = 'email' as const;

  constructor(
    private readonly client: SESClient,
    private readonly options: SesChannelOptions,
  ) {
    if (options.to.length === 0) throw new RangeError('SesChannel needs at least one recipient');
  }

  /**
   * A warning is not e-mailed here: the warning topic's e-mail subscription carries it, and a
   * second e-mail for every warning would bury the critical ones.
   */
  async send(message: AlertMessage): Promise<void> {
    if (message.severity !== 'critical') return;
    await this.client.send(
      new SendTemplatedEmailCommand({
        Source: this.options.from,
        Destination: { ToAddresses: [...this.options.to] },
        Template: this.options.templateName,
        TemplateData: JSON.stringify(emailTemplateData(message)),
      }),
    );
  }
}

/**
 * The emulated mode's stand-in for the stack's template and sender identity: creates the
 * template or brings it up to date, and asks SES to verify the sender (moto verifies at once).
 */
export async function ensureAlertTemplate(client: SESClient, name: string, from: string): Promise<void> {
  const template = {
    TemplateName: name,
    SubjectPart: ALERT_EMAIL_TEMPLATE.subjectPart,
    TextPart: ALERT_EMAIL_TEMPLATE.textPart,
    HtmlPart: ALERT_EMAIL_TEMPLATE.htmlPart,
  };
  try {
    await client.send(new CreateTemplateCommand({ Template: template }));
  } catch (error) {
    if (!(error instanceof AlreadyExistsException)) throw error;
    await client.send(new UpdateTemplateCommand({ Template: template }));
  }
  await client.send(new VerifyEmailIdentityCommand({ EmailAddress: from }));
}
