export const BUS_ENV = Symbol('BUS_ENV');
export const BUS_LOGGER = Symbol('BUS_LOGGER');
export const BUS_KAFKA = Symbol('BUS_KAFKA');
export const BUS_SERVICE = Symbol('BUS_SERVICE');
