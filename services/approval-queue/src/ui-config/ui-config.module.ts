import { Module } from '@nestjs/common';
import { UiConfigController } from './ui-config.controller';

@Module({ controllers: [UiConfigController] })
export class UiConfigModule {}
