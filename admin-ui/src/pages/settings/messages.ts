/** Strings of the settings page(s). zh must have every key of en (the type checks it). */
export const en = {
  title: 'Settings',
};

export const zh: typeof en = {
  title: '设置',
};
