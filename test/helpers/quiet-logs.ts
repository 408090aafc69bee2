/** Tests print only errors from the project's structured logger unless LOG_LEVEL asks for more. */
process.env.LOG_LEVEL ??= 'error';
