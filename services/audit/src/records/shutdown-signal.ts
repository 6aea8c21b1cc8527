import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';

/** True once the app is stopping: retry loops then give up so the offset is not committed. */
@Injectable()
export class ShutdownSignal implements BeforeApplicationShutdown {
  stopping = false;

  beforeApplicationShutdown(): void {
    this.stopping = true;
  }
}
